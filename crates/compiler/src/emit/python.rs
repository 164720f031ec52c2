//! Python target (being written).
