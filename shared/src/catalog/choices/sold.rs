//! A line as it was sold: what one unit was made of, kept with the order
//! line (`order_lines.made_of`), so the kitchen's card and a remake follow
//! the quantities reserved and paid for, whatever the admin changes in the
//! catalogue since (a size's percentage, a size or an extra withdrawn, an
//! extra's portion).

use super::*;

/// The stored form: `id:quantity` per ingredient, `:x` for an extra, `:r`
/// for a topping that could have been left off; comma-separated.
pub(super) fn text(parts: &[MadeOf]) -> String {
    parts
        .iter()
        .map(|p| {
            let mut part = format!("{}:{}", p.ingredient_id.0, p.quantity);
            if p.extra {
                part.push_str(":x");
            }
            if p.removable {
                part.push_str(":r");
            }
            part
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The parts of a stored text; `None` when anything in it does not read.
fn parse(text: &str) -> Option<Vec<(IngredientId, i64, bool, bool)>> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut fields = part.split(':');
            let id = fields.next()?.parse().ok()?;
            let quantity = fields.next()?.parse().ok()?;
            let flags: Vec<&str> = fields.collect();
            Some((
                IngredientId(id),
                quantity,
                flags.contains(&"x"),
                flags.contains(&"r"),
            ))
        })
        .collect()
}

impl Made {
    /// What one unit is made of, to keep with the order line.
    pub fn made_of(&self) -> String {
        text(&self.ingredients)
    }
}

impl Offer {
    /// A line already sold, made as it was sold: its words from what was
    /// asked ([`Offer::make_sold`]), its quantities from `made_of` as stored
    /// with the line (lines sold before it was kept: from the catalogue).
    pub fn made_as_sold(&self, product: ProductId, choice: &Choice, made_of: Option<&str>) -> Made {
        let mut made = self.make_sold(product, choice);
        if let Some(parts) = made_of.and_then(parse) {
            made.ingredients = parts
                .into_iter()
                .map(|(id, quantity, extra, removable)| {
                    let known = self.ingredients.get(&id);
                    MadeOf {
                        ingredient_id: id,
                        name: known.map_or_else(|| format!("#{}", id.0), |i| i.name.clone()),
                        quantity,
                        unit: known.map_or_else(String::new, |i| i.unit.clone()),
                        extra,
                        removable,
                    }
                })
                .collect();
        }
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_reads_back() {
        let parts = [
            (1, 250, false, false),
            (5, 60, false, true),
            (7, 40, true, false),
        ];
        let made: Vec<MadeOf> = parts
            .iter()
            .map(|&(id, quantity, extra, removable)| MadeOf {
                ingredient_id: IngredientId(id),
                name: String::new(),
                quantity,
                unit: String::new(),
                extra,
                removable,
            })
            .collect();
        let stored = text(&made);
        assert_eq!(stored, "1:250,5:60:r,7:40:x");
        let read = parse(&stored).unwrap_or_default();
        let back: Vec<(i64, i64, bool, bool)> = read
            .into_iter()
            .map(|(id, q, x, r)| (id.0, q, x, r))
            .collect();
        assert_eq!(back, parts);
        assert_eq!(parse("1:two"), None);
        assert_eq!(parse(""), Some(Vec::new()));
    }
}
