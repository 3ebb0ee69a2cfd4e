//! Formatter unit tests.
