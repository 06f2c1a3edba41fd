//! Getting an order to the customer's door: where an address is, which
//! pizzerias deliver there and how far, and the deliveries themselves
//! (assignment to a courier, estimated arrival, cash collected at the door).

pub mod geo;
