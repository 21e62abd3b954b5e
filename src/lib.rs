//! POS Sync core: every business rule of the connector, with no I/O of its own.
