package pgprovider

// For the external test package pgprovider_test, which builds its harnesses
// with internal/pgharness (an in-package test cannot import it: pgharness
// imports pgprovider).

// TestPool is testPool: the shared pool of the test binary, skipping (or
// failing, in CI) without a DSN.
var TestPool = testPool

// RaceSlack is raceSlack, in milliseconds.
const RaceSlack = raceSlack
