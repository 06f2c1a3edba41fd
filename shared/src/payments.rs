//! Card payments through Stripe, and its webhooks. (Being written.)
