//! Money: integer euro cents, never floats.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Mul, Sub};

/// An amount in euro cents. Serialized as a bare integer in `*_cents` fields.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// The VAT contained in this VAT-inclusive amount at `rate_bp` basis points
    /// (1000 = 10 %), rounded half up to the cent as on a French receipt.
    pub fn vat_included(self, rate_bp: u32) -> Money {
        let rate = i64::from(rate_bp);
        // vat = gross * rate / (10000 + rate), rounded half up.
        let num = self.0 * rate;
        let den = 10_000 + rate;
        Money((2 * num + den) / (2 * den))
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Mul<i64> for Money {
    type Output = Money;
    fn mul(self, rhs: i64) -> Money {
        Money(self.0 * rhs)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// French notation, as on the pages and in e-mails: `12,50 €`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{},{:02}\u{a0}€", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_in_french_notation() {
        assert_eq!(Money::from_cents(1250).to_string(), "12,50\u{a0}€");
        assert_eq!(Money::from_cents(5).to_string(), "0,05\u{a0}€");
        assert_eq!(Money::from_cents(-300).to_string(), "-3,00\u{a0}€");
    }

    #[test]
    fn vat_included_at_ten_percent() {
        // 11,00 € TTC at 10 % contains 1,00 € of VAT.
        assert_eq!(
            Money::from_cents(1100).vat_included(1000),
            Money::from_cents(100)
        );
        // 12,50 € → 1,136… → 1,14 €
        assert_eq!(
            Money::from_cents(1250).vat_included(1000),
            Money::from_cents(114)
        );
        assert_eq!(Money::from_cents(1250).vat_included(0), Money::ZERO);
        // 20 %: 12,00 € contains 2,00 €
        assert_eq!(
            Money::from_cents(1200).vat_included(2000),
            Money::from_cents(200)
        );
    }

    #[test]
    fn sums_and_multiplies() {
        let total: Money = [Money::from_cents(950), Money::from_cents(300)]
            .into_iter()
            .sum();
        assert_eq!(total.cents(), 1250);
        assert_eq!(
            Money::from_cents(950).checked_mul(3),
            Some(Money::from_cents(2850))
        );
        assert_eq!(Money::from_cents(i64::MAX).checked_mul(2), None);
    }
}
