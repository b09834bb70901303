// Package conformance holds tests that hold every module of the collection
// to the same rules: bad input fails before any request, with a message
// that names the option, and secrets never show.
package conformance
