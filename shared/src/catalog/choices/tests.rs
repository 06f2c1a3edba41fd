use super::*;

const DOUGH: IngredientId = IngredientId(1);
const MOZZARELLA: IngredientId = IngredientId(3);
const HAM: IngredientId = IngredientId(4);
const MUSHROOMS: IngredientId = IngredientId(5);
const GOAT: IngredientId = IngredientId(7);
const EGG: IngredientId = IngredientId(27);
const REINE: ProductId = ProductId(2);
const COLA: ProductId = ProductId(21);

fn ingredient(
    id: IngredientId,
    name: &str,
    allergens: &[Allergen],
    vegetarian: bool,
) -> Ingredient {
    Ingredient {
        id,
        name: name.into(),
        unit: "g".into(),
        allergens: allergens.to_vec(),
        vegetarian,
    }
}

/// A Reine in two sizes (the large one at 150 %), three extras at most;
/// a cola with nothing to choose; goat's cheese and egg as extras.
fn offer() -> Offer {
    let ingredients = [
        ingredient(DOUGH, "Pâte à pizza", &[Allergen::Gluten], true),
        ingredient(MOZZARELLA, "Mozzarella", &[Allergen::Milk], true),
        ingredient(HAM, "Jambon blanc", &[], false),
        ingredient(MUSHROOMS, "Champignons de Paris", &[], true),
        ingredient(GOAT, "Chèvre", &[Allergen::Milk], true),
        ingredient(EGG, "Œuf", &[Allergen::Eggs], true),
    ];
    let part = |ingredient, quantity, removable| Part {
        ingredient,
        quantity,
        removable,
    };
    let size = |code: &str, label: &str, price_cents, recipe_percent| Size {
        code: code.into(),
        label: label.into(),
        price_cents,
        recipe_percent,
    };
    let extra = |id: IngredientId, quantity, price_cents| {
        let i = ingredients
            .iter()
            .find(|i| i.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}"));
        Extra {
            ingredient_id: id,
            name: i.name,
            quantity,
            price_cents,
            allergens: i.allergens,
            vegetarian: i.vegetarian,
        }
    };
    Offer {
        products: BTreeMap::from([
            (
                REINE,
                ProductOffer {
                    max_extras: 2,
                    sizes: vec![
                        size("medium", "Moyenne 29 cm", 1100, 100),
                        size("large", "Grande 40 cm", 1550, 150),
                    ],
                    recipe: vec![
                        part(DOUGH, 250, false),
                        part(MOZZARELLA, 120, true),
                        part(HAM, 60, true),
                        part(MUSHROOMS, 50, true),
                    ],
                },
            ),
            (COLA, ProductOffer::default()),
        ]),
        extras: vec![extra(GOAT, 40, 150), extra(EGG, 1, 100)],
        ingredients: ingredients.iter().map(|i| (i.id, i.clone())).collect(),
    }
}

fn choice(size: Option<&str>, remove: &[IngredientId], extras: &[IngredientId]) -> Choice {
    Choice {
        size: size.map(str::to_owned),
        remove: remove.iter().copied().collect(),
        extras: extras.iter().copied().collect(),
    }
}

#[test]
fn a_large_reine_without_mushrooms_with_goats_cheese_is_priced_made_and_declared() {
    let made = offer()
        .make(REINE, 1100, &choice(Some("large"), &[MUSHROOMS], &[GOAT]))
        .expect("a valid choice");
    assert_eq!(made.unit_price_cents, 1550 + 150);
    assert_eq!(
        made.words,
        "Grande 40 cm · sans Champignons de Paris · + Chèvre"
    );
    assert_eq!(
        made.allergens,
        BTreeSet::from([Allergen::Gluten, Allergen::Milk])
    );
    assert!(!made.vegetarian, "the ham is still on it");
    // 150 % of each line, rounded up; the extra's portion too.
    assert_eq!(
        made.needs(),
        BTreeMap::from([(DOUGH, 375), (MOZZARELLA, 180), (HAM, 90), (GOAT, 60)])
    );
    let goat = made.ingredients.iter().find(|i| i.ingredient_id == GOAT);
    assert!(goat.is_some_and(|g| g.extra));
}

#[test]
fn nothing_asked_is_the_first_size_as_the_recipe_says() {
    let made = offer()
        .make(REINE, 999, &Choice::default())
        .expect("default");
    assert_eq!(
        made.unit_price_cents, 1100,
        "the first size's price, not the base"
    );
    assert_eq!(made.words, "Moyenne 29 cm");
    assert_eq!(made.needs()[&DOUGH], 250);
    let cola = offer()
        .make(COLA, 300, &Choice::default())
        .expect("a drink");
    assert_eq!(
        (cola.unit_price_cents, cola.words.as_str(), cola.size),
        (300, "", None)
    );
}

#[test]
fn leaving_off_the_only_allergen_removes_it_and_the_ham_makes_it_vegetarian() {
    let made = offer()
        .make(REINE, 1100, &choice(None, &[MOZZARELLA, HAM], &[]))
        .expect("valid");
    assert_eq!(made.allergens, BTreeSet::from([Allergen::Gluten]));
    assert!(made.vegetarian);
    assert_eq!(made.unit_price_cents, 1100, "leaving off is free");
    let with_egg = offer()
        .make(REINE, 1100, &choice(None, &[HAM], &[EGG]))
        .expect("valid");
    assert!(with_egg.allergens.contains(&Allergen::Eggs));
}

#[test]
fn what_cannot_be_asked_is_refused_with_its_field() {
    let o = offer();
    let field = |product, c: Choice| o.make(product, 1100, &c).map(|_| ()).map_err(|p| p.field);
    assert_eq!(field(REINE, choice(Some("xxl"), &[], &[])), Err("size"));
    assert_eq!(field(COLA, choice(Some("large"), &[], &[])), Err("size"));
    assert_eq!(
        field(REINE, choice(None, &[DOUGH], &[])),
        Err("remove"),
        "the dough stays"
    );
    assert_eq!(
        field(REINE, choice(None, &[GOAT], &[])),
        Err("remove"),
        "not on a Reine"
    );
    assert_eq!(
        field(REINE, choice(None, &[], &[HAM])),
        Err("extras"),
        "not an extra"
    );
    assert_eq!(
        field(COLA, choice(None, &[], &[GOAT])),
        Err("extras"),
        "a drink takes none"
    );
    assert_eq!(
        field(REINE, choice(None, &[], &[GOAT, EGG, IngredientId(99)])),
        Err("extras")
    );
    assert_eq!(
        field(REINE, choice(None, &[MOZZARELLA], &[MOZZARELLA])),
        Err("extras")
    );
}

#[test]
fn stored_codes_and_ids_read_back() {
    let set = BTreeSet::from([Allergen::Milk, Allergen::Gluten]);
    assert_eq!(Allergen::join(&set), "gluten,milk");
    assert_eq!(
        Allergen::split("gluten,milk,bogus"),
        vec![Allergen::Gluten, Allergen::Milk]
    );
    assert_eq!(Allergen::split(""), Vec::<Allergen>::new());
    let ids = BTreeSet::from([GOAT, MUSHROOMS]);
    assert_eq!(Choice::ids(&ids), "5,7");
    assert_eq!(Choice::parse_ids("5,7"), ids);
    assert!(Choice::parse_ids("").is_empty());
    assert_eq!(scaled(5, 150), 8);
    assert_eq!(Allergen::ALL.len(), 14);
}
