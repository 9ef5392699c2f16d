// Package nn holds fovea's layers: small builders over the ops of package
// ag, each owning its named parameters. A layer is a function of Vars
// (Forward) with named parameters (Params); Sequential chains layers, and
// anything else — residual shortcuts, branches, several outputs — is
// plain Go calling layers through Ctx.Call. Summary prints Keras' table of
// layers, output shapes and parameter counts (see Example).
package nn
