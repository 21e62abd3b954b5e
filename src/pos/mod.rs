//! Point-of-sale APIs. R-Series first; X-Series will sit beside it.

pub mod lightspeed_r;
