// Package archtest holds no code: its test checks that the project's packages import each
// other only in the directions ARCHITECTURE.md allows.
package archtest
