//! The tests of `revenue`.

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn bounds_are_checked() {
    assert!(Period::new(date(2026, 3, 2), date(2026, 3, 1)).is_err());
    assert!(Period::new(date(2026, 1, 1), date(2026, 12, 31)).is_ok());
    assert!(Period::new(date(2024, 1, 1), date(2024, 12, 31)).is_ok()); // 366
    assert!(Period::new(date(2025, 1, 1), date(2026, 1, 1)).is_ok()); // 366
    assert!(Period::new(date(2025, 1, 1), date(2026, 1, 2)).is_err()); // 367
                                                                       // Found by fuzzing: years the database cannot hold made the report
                                                                       // panic (binding the bounds) instead of answering 422.
    assert!(Period::new(date(-1, 12, 31), date(-1, 12, 31)).is_err());
    assert!(Period::new(date(1969, 12, 31), date(1970, 1, 1)).is_err());
    assert!(Period::new(date(9998, 12, 31), date(9999, 1, 1)).is_err());
    assert!(Period::new(NaiveDate::MAX, NaiveDate::MAX).is_err());
    assert!(Period::new(date(1970, 1, 1), date(1970, 1, 1)).is_ok());
    assert!(Period::new(date(9998, 12, 31), date(9998, 12, 31)).is_ok());
}

#[test]
fn paris_days_and_dst_pieces() {
    // 29 March 2026: Paris goes from UTC+1 to UTC+2 at 01:00 UTC.
    let period = Period::new(date(2026, 3, 28), date(2026, 3, 30)).unwrap();
    let (start, end) = period.utc_bounds();
    assert_eq!(start.to_rfc3339(), "2026-03-27T23:00:00+00:00");
    assert_eq!(end.to_rfc3339(), "2026-03-30T22:00:00+00:00");
    let pieces = period.offsets();
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces[0].1, 3600);
    assert_eq!(pieces[1].0.to_rfc3339(), "2026-03-29T01:00:00+00:00");
    assert_eq!(pieces[1].1, 7200);
    // A year has two changes.
    let year = Period::new(date(2026, 1, 1), date(2026, 12, 31)).unwrap();
    assert_eq!(year.offsets().len(), 3);
}

/// The report's query has room for [`MAX_PIECES`] offsets: no period of
/// [`MAX_DAYS`] days holds four changes of Paris's offset.
#[test]
fn no_period_has_more_pieces_than_the_query_takes() {
    let changes: Vec<DateTime<Utc>> = (1970..=2100)
        .flat_map(|y| {
            let year = Period::new(date(y, 1, 1), date(y, 12, 31)).unwrap();
            year.offsets().into_iter().skip(1).map(|(since, _)| since)
        })
        .collect();
    assert!(changes.len() > 200, "{}", changes.len());
    for four in changes.windows(MAX_PIECES) {
        assert!(
            four[MAX_PIECES - 1] - four[0] > Duration::days(MAX_DAYS) + Duration::hours(1),
            "{four:?}"
        );
    }
}

#[test]
fn euros_have_a_decimal_comma_and_two_decimals() {
    assert_eq!(euros(0), "0,00");
    assert_eq!(euros(5), "0,05");
    assert_eq!(euros(123456), "1234,56");
    assert_eq!(euros(123456789), "1234567,89");
    assert_eq!(euros(-150), "-1,50");
}

#[test]
fn cells_are_quoted_for_semicolons_quotes_and_line_ends() {
    assert_eq!(csv_cell("OC Pizza, Lyon"), "OC Pizza, Lyon");
    assert_eq!(csv_cell("Lyon; Presqu'île"), "\"Lyon; Presqu'île\"");
    assert_eq!(csv_cell("Le \"Vieux\" Lyon"), "\"Le \"\"Vieux\"\" Lyon\"");
    assert_eq!(csv_cell("a\nb"), "\"a\nb\"");
}

#[test]
fn the_file_name_says_the_scope_and_the_period() {
    let period = Period::new(date(2026, 3, 1), date(2026, 3, 31)).unwrap();
    let mut report = Report {
        pizzeria_id: None,
        from: period.from(),
        to: period.to(),
        time_zone: "Europe/Paris",
        counted_statuses: COUNTED_STATUSES,
        totals: Figures::empty(),
        days: days_of(&period),
        pizzerias: Vec::new(),
    };
    assert_eq!(
        csv_filename(&report),
        "chiffre-affaires_toutes-pizzerias_2026-03-01_2026-03-31.csv"
    );
    report.pizzeria_id = Some(PizzeriaId(1));
    report.pizzerias.push(PizzeriaRevenue {
        pizzeria_id: PizzeriaId(1),
        name: "OC Pizza Lyon Presqu'île — Côté Saône".into(),
        figures: Figures::empty(),
        days: Vec::new(),
    });
    assert_eq!(
        csv_filename(&report),
        "chiffre-affaires_pizzeria-1-oc-pizza-lyon-presqu-ile-cote-saone_2026-03-01_2026-03-31.csv"
    );
    report.pizzerias[0].name = "=\"; ピザ".into();
    assert_eq!(
        csv_filename(&report),
        "chiffre-affaires_pizzeria-1_2026-03-01_2026-03-31.csv"
    );
}
