//! Who is calling: the roles of `docs/architecture.md` ("Roles").

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Own orders only.
    Customer,
    /// Phone and counter orders, pickups, counter payments — own pizzeria.
    Cashier,
    /// Kitchen of own pizzeria.
    Pizzaiolo,
    /// Own deliveries.
    Courier,
    /// Own pizzeria: stock, menu, staff, revenue.
    Manager,
    /// The whole group.
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Customer,
        Role::Cashier,
        Role::Pizzaiolo,
        Role::Courier,
        Role::Manager,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Cashier => "cashier",
            Role::Pizzaiolo => "pizzaiolo",
            Role::Courier => "courier",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// Staff belong to one pizzeria; customers and the admin do not.
    pub fn is_pizzeria_staff(self) -> bool {
        !matches!(self, Role::Customer | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("chef".parse::<Role>().is_err());
    }

    #[test]
    fn only_shop_roles_are_tied_to_a_pizzeria() {
        let staff: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.is_pizzeria_staff())
            .collect();
        assert_eq!(
            staff,
            [Role::Cashier, Role::Pizzaiolo, Role::Courier, Role::Manager]
        );
    }
}
