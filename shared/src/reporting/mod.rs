//! What managers and the engineer on call read about the money: the revenue
//! report (kept sales per day, pizzeria and VAT rate) and the reconciliation
//! audit that checks every order's state against what was paid and refunded.

pub mod audit;
pub mod revenue;
