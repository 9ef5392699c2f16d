// Package nn holds fovea's layers: small builders over the ops of package
// ag, each owning its named parameters.
package nn
