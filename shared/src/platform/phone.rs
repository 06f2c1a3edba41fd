//! Phone numbers in one form, E.164 (`+33645678901`), parsed from however a
//! person types them: `06 45 67 89 01`, `06.45.67.89.01`, `+33 6 45 67 89 01`,
//! `0033 6 45 67 89 01` are one number. Every phone the application stores
//! (`users.phone`, `orders.contact_phone`), looks up (`GET /customers?phone=`,
//! `GET /orders?phone=`) or counts (the guest-orders limit) goes through
//! [`parse`], so the same number is always the same text and an index finds
//! it with `=`.
//!
//! The parsing and the validation are libphonenumber's, through the
//! `phonenumber` crate and its metadata (which numbers exist, country by
//! country). France is the default region: a number without `+` or `00` is
//! French. A number that does not exist is refused, not stored: too short,
//! too long, an unknown country, or a range nobody is given (`07 12…`).
//!
//! Two things of our own:
//! - Loading the crate's database of every country checks all its regular
//!   expressions, about 150 ms of CPU on our machines (over a second on a
//!   128 MB Lambda): the first order after a cold start would wait for it.
//!   France's entry alone (`phone/france.xml`, copied from the crate and
//!   checked against it by a test) loads in well under a millisecond; the
//!   whole database is loaded only for a number of another country, once
//!   per container. The regular expressions are compiled on first use (about
//!   20 ms); checkout, which parses a number nearly every request, does that
//!   at start on a thread of its own ([`warm_up`]).
//! - ARCEP reserves `06 39 98 xx xx` for fiction: never given to anyone, so
//!   libphonenumber does not list it as a mobile range. The demo data and
//!   the tests use it on purpose (a demo must never ring a real person), so
//!   it is accepted. The other ranges reserved for fiction (`01 99 00`,
//!   `02 61 91`, `03 53 01`, `04 65 71`, `05 36 49`) are valid numbers already.

use phonenumber::metadata::{Database, DATABASE};
use phonenumber::{country, ParseError, PhoneNumber};
use serde::Serialize;
use std::fmt;
use std::sync::LazyLock;

/// A phone number in E.164 form: `+`, the country code, the national number,
/// digits only (at most 15). Made only by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for E164 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for E164 {
    type Err = PhoneError;
    fn from_str(text: &str) -> Result<E164, PhoneError> {
        parse(text)
    }
}

/// Why a text is not a phone number; each says it in a few words for the
/// messages of the callers (which name their field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Empty, letters, an extension, or no number to be found in it.
    #[error("not a phone number")]
    NotANumber,
    #[error("digits are missing")]
    TooShort,
    #[error("too many digits")]
    TooLong,
    /// `+` or `00` followed by no country's code.
    #[error("no country has this code")]
    UnknownCountry,
    /// The right length, in a range no number is given from.
    #[error("no such number")]
    NotValid,
}

impl From<ParseError> for PhoneError {
    fn from(err: ParseError) -> PhoneError {
        match err {
            ParseError::InvalidCountryCode => PhoneError::UnknownCountry,
            ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneError::TooShort,
            ParseError::TooLong => PhoneError::TooLong,
            ParseError::NoNumber | ParseError::MalformedInteger(_) => PhoneError::NotANumber,
        }
    }
}

/// The longest text taken as a phone number: `+33 (0) 6 45 67 89 01` is 21
/// characters. Longer is refused before the parser sees it.
const MAX_TYPED: usize = 32;

/// What people put in a phone number besides digits: spaces (any kind,
/// made plain first: French typography's no-break ones, a pasted tab), `+`,
/// and the separators `. - / ( )`. Letters are not (the parser would read
/// `06 PIZZA` as a vanity number, and `poste 12` as an extension), nor
/// RFC 3966's `tel:` form.
fn typed_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '+' | ' ' | '.' | '-' | '/' | '(' | ')')
}

/// France's metadata alone: see the module's documentation.
static FRANCE: LazyLock<Database> = LazyLock::new(|| {
    Database::parse(include_str!("phone/france.xml"))
        .unwrap_or_else(|e| panic!("phone/france.xml: {e}"))
});

/// France's code, and the national numbers ARCEP reserves for fiction that
/// libphonenumber does not list (9 digits after +33, see the module).
const FRANCE_CODE: u16 = 33;
const FICTION_MOBILE: &str = "63998";

/// Compiles France's rules on a thread of their own, for a function whose
/// requests nearly all parse a number (checkout): the first one then does
/// not wait the ~20 ms (locally; more on a small Lambda) that compiling
/// libphonenumber's regular expressions takes on first use.
pub fn warm_up() {
    let spawned = std::thread::Builder::new()
        .name("phone-warm-up".into())
        .spawn(|| {
            // A mobile number is tried against nearly every type's pattern.
            let _ = parse("06 12 34 56 78");
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "phone rules not warmed up");
    }
}

/// Parses `text` as a phone number, France being the default region, and
/// gives it in E.164 form when it is a number that exists.
pub fn parse(text: &str) -> Result<E164, PhoneError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TYPED {
        return Err(PhoneError::NotANumber);
    }
    let text: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if !text.chars().all(typed_char) {
        return Err(PhoneError::NotANumber);
    }
    let text = text.as_str();
    match phonenumber::parse_with(&FRANCE, Some(country::Id::FR), text) {
        Ok(number) => checked(&FRANCE, &number),
        // `+` or `00` and another country's code: the whole database.
        Err(ParseError::InvalidCountryCode) => {
            let number = phonenumber::parse_with(&DATABASE, Some(country::Id::FR), text)?;
            checked(&DATABASE, &number)
        }
        Err(err) => Err(err.into()),
    }
}

fn checked(database: &Database, number: &PhoneNumber) -> Result<E164, PhoneError> {
    if number.extension().is_some() {
        return Err(PhoneError::NotANumber);
    }
    let code = number.code().value();
    // E.164 is what the crate's formatter writes in its `E164` mode; written
    // here because that formatter looks the number's formats up in the
    // whole database whichever it is given.
    let national = number.national().to_string();
    let fiction =
        code == FRANCE_CODE && national.len() == 9 && national.starts_with(FICTION_MOBILE);
    if number.is_valid_with(database) || fiction {
        return Ok(E164(format!("+{code}{national}")));
    }
    // Say why: a length no number of that country has, or a range unused.
    let lengths: Vec<u16> = database
        .by_code(&code)
        .into_iter()
        .flatten()
        .flat_map(|meta| {
            let d = meta.descriptors();
            [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
        })
        .flatten()
        .flat_map(|d| d.possible_length().iter().copied())
        .collect();
    let digits = u16::try_from(national.len()).unwrap_or(u16::MAX);
    Err(match (lengths.iter().min(), lengths.iter().max()) {
        (Some(&shortest), _) if digits < shortest => PhoneError::TooShort,
        (_, Some(&longest)) if digits > longest => PhoneError::TooLong,
        _ => PhoneError::NotValid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(text: &str) -> String {
        match parse(text) {
            Ok(number) => number.into_string(),
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    #[test]
    fn a_french_number_however_typed_is_one_number() {
        for typed in [
            "06 45 67 89 01",
            "0645678901",
            "+33645678901",
            "+33 6 45 67 89 01",
            "0033645678901",
            "0033 6 45 67 89 01",
            "06.45.67.89.01",
            "06-45-67-89-01",
            "06/45/67/89/01",
            "(06) 45 67 89 01",
            "+33 (0)6 45 67 89 01",
            "+33 06 45 67 89 01",
            "  06 45 67 89 01 ",
            "06\u{a0}45\u{a0}67\u{a0}89\u{a0}01",
            "06\u{202f}45\u{202f}67\u{202f}89\u{202f}01",
            "06\t45 67 89 01",
        ] {
            assert_eq!(e164(typed), "+33645678901", "{typed:?}");
        }
        // Fixed lines, free numbers, the other mobile range.
        assert_eq!(e164("04 65 71 01 01"), "+33465710101");
        assert_eq!(e164("01 99 00 03 03"), "+33199000303");
        assert_eq!(e164("0800 123 456"), "+33800123456");
        assert_eq!(e164("07 81 23 45 67"), "+33781234567");
    }

    #[test]
    fn a_foreign_number_keeps_its_country() {
        assert_eq!(e164("+44 20 7946 0958"), "+442079460958");
        assert_eq!(e164("0044 20 7946 0958"), "+442079460958");
        assert_eq!(e164("+1 650 253 0000"), "+16502530000");
        assert_eq!(e164("+32 470 12 34 56"), "+32470123456");
        assert_eq!(e164("+39 347 123 4567"), "+393471234567");
        assert_eq!(e164("+41 44 668 18 00"), "+41446681800");
        // La Réunion: its own code, not France's.
        assert_eq!(e164("+262 692 12 34 56"), "+262692123456");
    }

    #[test]
    fn the_fiction_range_of_the_demo_is_accepted() {
        assert_eq!(e164("06 39 98 00 01"), "+33639980001");
        assert_eq!(e164("+33639980001"), "+33639980001");
        // Its length is checked like any other.
        assert_eq!(parse("06 39 98 00 0"), Err(PhoneError::TooShort));
        assert_eq!(parse("06 39 98 00 01 2"), Err(PhoneError::TooLong));
    }

    #[test]
    fn what_is_not_a_number_that_exists_is_refused() {
        for garbage in [
            "",
            "   ",
            "call me",
            "abc",
            "+",
            "06 PIZZA 01",
            "06 45 67 89 01 poste 12",
            "06 45 67 89 01 ext. 12",
            "tel:+33645678901",
            "+33645678901;ext=1",
            ".;phone-context=",
            "+dwPAA;phone-context=AA",
            "０６４５６７８９０１",
            "06 45 67 89 01 and some more text",
        ] {
            assert!(parse(garbage).is_err(), "{garbage:?}");
        }
        assert_eq!(parse("call me"), Err(PhoneError::NotANumber));
        assert_eq!(parse("06 45 67 89"), Err(PhoneError::TooShort));
        assert_eq!(parse("06399800"), Err(PhoneError::TooShort));
        assert_eq!(parse("12"), Err(PhoneError::TooShort));
        assert_eq!(parse("06 45 67 89 01 23"), Err(PhoneError::TooLong));
        assert_eq!(parse("+33 6 45 67 89 01 2"), Err(PhoneError::TooLong));
        assert_eq!(parse("+44 20 7946 095"), Err(PhoneError::NotValid));
        assert_eq!(parse("99999999999999999999999"), Err(PhoneError::TooLong));
        assert_eq!(
            parse(&"0".repeat(MAX_TYPED + 1)),
            Err(PhoneError::NotANumber)
        );
        // Ranges nobody is given: 07 1x, 06 9x except 95, 98, 99.
        assert_eq!(parse("07 12 34 56 78"), Err(PhoneError::NotValid));
        assert_eq!(parse("06 92 12 34 56"), Err(PhoneError::NotValid));
        assert_eq!(parse("+999 123 456 789"), Err(PhoneError::UnknownCountry));
    }

    /// `phone/france.xml` is the crate's own entry for France, so a French
    /// number parses as the whole database would parse it.
    #[test]
    fn the_french_metadata_is_the_crates() {
        let ours = format!("{:?}", FRANCE.by_id("FR").expect("FR in phone/france.xml"));
        let crates = format!("{:?}", DATABASE.by_id("FR").expect("FR in phonenumber"));
        assert!(
            ours == crates,
            "shared/src/phone/france.xml differs from the phonenumber crate's metadata for FR: \
             copy the crate's <territory id=\"FR\"> element (assets/PhoneNumberMetadata.xml) \
             into it, and the version into its header"
        );
        for typed in [
            "06 45 67 89 01",
            "0033 6 39 98 00 01",
            "04 65 71 01 01",
            "07 12 34 56 78",
        ] {
            let fast = phonenumber::parse_with(&FRANCE, Some(country::Id::FR), typed).unwrap();
            let whole = phonenumber::parse_with(&DATABASE, Some(country::Id::FR), typed).unwrap();
            assert_eq!(fast, whole, "{typed}");
            assert_eq!(
                fast.is_valid_with(&FRANCE),
                whole.is_valid_with(&DATABASE),
                "{typed}"
            );
        }
    }
}
