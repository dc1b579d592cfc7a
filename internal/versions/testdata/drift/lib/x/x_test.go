package x

// A test's fixture is its own: Talos v1.9.0.
