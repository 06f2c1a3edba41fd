//! Typed ids, so a pizzeria id is never passed where an order id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// Parses a path segment: a positive decimal integer, nothing else.
        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(());
                }
                s.parse::<i64>().map(Self).map_err(|_| ())
            }
        }
    };
}

id_type!(
    /// A pizzeria (1..5 open, more opening).
    PizzeriaId
);
id_type!(
    /// A product on the menu.
    ProductId
);
id_type!(
    /// An ingredient held in stock.
    IngredientId
);
id_type!(
    /// An order.
    OrderId
);
id_type!(
    /// A user: customer or staff.
    UserId
);
id_type!(
    /// A delivery of an order by a courier.
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_plain_positive_integers() {
        assert_eq!("42".parse::<OrderId>(), Ok(OrderId(42)));
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "0x10",
            " 1",
            "99999999999999999999",
            "abc",
        ] {
            assert!(bad.parse::<OrderId>().is_err(), "{bad:?} should be refused");
        }
    }
}
