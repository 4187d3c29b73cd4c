//! Response → classification. (Interface sketch.)

/// What the page body said; filled by the classifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Page {}
