// Package archtest holds tests that keep the dependency arrows of the
// architecture honest (docs/architecture.md). It has no code.
package archtest
