//! CUDA target (being written).
