// Package weights saves and loads model weights and training
// checkpoints as safetensors files, and reads PyTorch's .pth files, the format PyTorch, JAX and the
// Hugging Face tools share: an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range (and
// string metadata), then the raw little-endian data.
//
//	err := weights.Save("model.safetensors", weights.StateDict(model.Params()), map[string]string{"arch": "resnet18"})
//	...
//	tensors, meta, err := weights.Load("model.safetensors")
//	report, err := weights.LoadStateDict(model.Params(), tensors, false) // skip, and report, a new head
//
// Example (below) runs a save, a load and a failed load.
//
// # Files from elsewhere
//
// Reading is strict about the layout and lenient about the numbers. The
// header must be one JSON object with each name once, known dtypes,
// shapes that agree with the byte ranges, and ranges that tile the data
// section with no gap or overlap; its length is checked against the
// file's size and a limit (DefaultMaxHeader) before anything is
// allocated. F16, BF16, F64 and integer tensors are converted to
// float32. Tensors holding NaN or infinities are refused unless
// Options.AllowNonFinite says otherwise. Every problem is an error that
// names the file; nothing a file holds makes Read panic (FuzzRead).
//
// # PyTorch files
//
// Load and Read also take what torch.save writes (.pth, .pt, .bin; told
// by the first bytes, not the name): the zip format of PyTorch 1.6 and
// later and the legacy one before it. The file's pickle is run by an
// unpickler that builds only a state dict - OrderedDict and dict,
// torch's tensor and Parameter rebuilders, storages of float32,
// float16, bfloat16, float64 and the integer and bool types, and
// primitives - and refuses any other global by name, as
// torch.load(weights_only=True) does; no code from the file ever runs.
// The state dict is the pickled dict itself or, for timm's and
// Lightning's checkpoints, its "state_dict" or "model" entry. Tensors
// are views of storages and come out as PyTorch sees them: its shapes
// (OIHW), strides, offsets and shared storages resolved, every dtype
// converted to float32. Sizes are checked against the file before
// anything is allocated; compressed records, which only a small file
// unpacking into a huge one needs, are refused. The metadata is
// "format": "pt" (PyTorch's layout, which models.Pretrained converts)
// and MetaPyTorch, the format read (FuzzReadPyTorch).
//
// # Writing
//
// Files are written F32, tensors in name order, header padded with
// spaces to a multiple of 8. Save and SaveCheckpoint are atomic: they
// write a temporary file beside the target, sync it, rename it over the
// target and sync the directory, so a crash or a full disk leaves the
// previous file whole.
//
// # Checkpoints
//
// A Checkpoint (weights, optimiser state, epoch, step, random-source
// state, metadata) is one safetensors file, from which a run resumes
// exactly where it stopped.
package weights
