//! The revenue report as a CSV file a French spreadsheet opens with a double
//! click, and the name it is downloaded under.

use super::{Figures, Report, CHANNELS, PAYMENT_METHODS};
use crate::platform::ids::PizzeriaId;

/// Cents as euros the French way, with a decimal comma and two decimals and
/// no thousands separator: `123456` → `1234,56` (what a French spreadsheet
/// reads as a number).
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{},{:02}", abs / 100, abs % 100)
}

/// The French names of the payment methods and channels, in the CSV's headers.
fn label(key: &str) -> &'static str {
    match key {
        "card" => "Carte bancaire",
        "cash" => "Espèces",
        "web" => "En ligne",
        "phone" => "Téléphone",
        _ => "Comptoir",
    }
}

/// The CSV export as a French spreadsheet (Excel, LibreOffice) opens it with
/// a double click: UTF-8 with a byte order mark (else Excel reads Latin-1),
/// `;` between cells (`,` is the decimal separator), CRLF line ends, a cell
/// quoted (RFC 4180) when it holds `;`, `"` or a line end, amounts in euros
/// with a decimal comma (`1234,56`), dates as `YYYY-MM-DD`.
///
/// A header row, then one row per pizzeria and day, one `Total` row per
/// pizzeria, and for all pizzerias a last `Total` row, `Toutes les
/// pizzerias`, with an empty pizzeria number. Each row says its pizzeria, so
/// the whole group's export sorts and filters by pizzeria. Amounts incl. VAT
/// (`TTC`) are what was kept, delivery fees included, refunds taken off (and
/// shown in their own column); a payment method's or channel's `CA TTC`
/// likewise.
pub fn to_csv(report: &Report) -> String {
    let mut header: Vec<String> = [
        "Date",
        "N° pizzeria",
        "Pizzeria",
        "Commandes",
        "CA HT (€)",
        "TVA (€)",
        "CA TTC (€)",
        "Remboursements TTC (€)",
        "Panier moyen TTC (€)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for key in PAYMENT_METHODS.iter().chain(CHANNELS.iter()) {
        header.push(format!("{} : commandes", label(key)));
        header.push(format!("{} : CA TTC (€)", label(key)));
    }
    let mut out = String::from("\u{feff}");
    out.push_str(&header.join(";"));
    out.push_str("\r\n");
    let mut line = |date: &str, id: Option<PizzeriaId>, name: &str, f: &Figures| {
        let mut cells = vec![
            date.to_owned(),
            id.map(|i| i.0.to_string()).unwrap_or_default(),
            csv_cell(name),
            f.orders.to_string(),
            euros(f.revenue_excl_vat_cents),
            euros(f.vat_cents),
            euros(f.revenue_incl_vat_cents),
            euros(f.refunds_cents),
            euros(f.average_basket_cents),
        ];
        // In the header's order (the maps are sorted by name).
        let slices = PAYMENT_METHODS
            .iter()
            .map(|m| f.by_payment_method.get(m))
            .chain(CHANNELS.iter().map(|c| f.by_channel.get(c)));
        for slice in slices {
            let slice = slice.copied().unwrap_or_default();
            cells.push(slice.orders.to_string());
            cells.push(euros(slice.revenue_cents));
        }
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    };
    for p in &report.pizzerias {
        for day in &p.days {
            line(
                &day.date.to_string(),
                Some(p.pizzeria_id),
                &p.name,
                &day.figures,
            );
        }
    }
    for p in &report.pizzerias {
        line("Total", Some(p.pizzeria_id), &p.name, &p.figures);
    }
    // One pizzeria's total is the scope's: no second row saying the same.
    if report.pizzeria_id.is_none() {
        line("Total", None, "Toutes les pizzerias", &report.totals);
    }
    out
}

/// A CSV field, quoted when it must be.
pub(super) fn csv_cell(text: &str) -> String {
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The export's file name, saying what it holds:
/// `chiffre-affaires_toutes-pizzerias_2026-03-01_2026-03-31.csv`, or for one
/// pizzeria `chiffre-affaires_pizzeria-1-oc-pizza-lyon-presqu-ile_….csv`
/// (its name in ASCII letters, digits and `-`, so any browser and file
/// system keeps it as is).
pub fn csv_filename(report: &Report) -> String {
    let scope = match report.pizzeria_id {
        None => "toutes-pizzerias".to_owned(),
        Some(id) => match report.pizzerias.first().map(|p| slug(&p.name)) {
            Some(name) if !name.is_empty() => format!("pizzeria-{id}-{name}"),
            _ => format!("pizzeria-{id}"),
        },
    };
    format!("chiffre-affaires_{scope}_{}_{}.csv", report.from, report.to)
}

/// `OC Pizza Lyon Presqu'île` → `oc-pizza-lyon-presqu-ile`: accents dropped
/// (NFD, then ASCII only), anything else a `-`, at most 60 characters.
fn slug(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in name.nfd().filter(char::is_ascii) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.chars().take(60).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}
