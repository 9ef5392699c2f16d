// Command fovea builds, trains, evaluates and inspects convolutional
// networks from the command line.
//
//	fovea train                       # LeNet-5 on MNIST, 12 epochs, cosine schedule, into runs/lenet5
//	fovea train --model resnet18 --data photos/ --epochs 20   # class subfolders of JPEG/PNG/GIF files
//	fovea train --model resnet18_cifar --data cifar-10-batches-bin   # or cifar-10-binary.tar.gz
//	fovea train --resume runs/lenet5/checkpoint.safetensors
//	fovea eval --weights runs/resnet18/best.safetensors
//	fovea predict cat.jpg --weights runs/resnet18/model.safetensors
//	fovea finetune --from resnet18.safetensors --data photos/ --classes 5
//	fovea summary alexnet --json
//	fovea models
//
// --data takes mnist, fashion-mnist, a CIFAR-10/100 folder or archive, an
// IDX folder or an image folder; images are converted to the model's
// input size and channels, and the files fovea writes say how, so eval,
// predict and finetune prepare images as training did.
//
// Every error is one line naming what was wrong, and the exit status is 1
// (2 for a mistake in the command line itself).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

var commands = []struct {
	name, help string
	run        func(args []string, stdout, stderr io.Writer) error
}{
	{"train", "train a model (default: LeNet-5 on MNIST)", cmdTrain},
	{"eval", "evaluate saved weights on a test set", cmdEval},
	{"predict", "print the top classes of image files or test examples", cmdPredict},
	{"summary", "print a model's layers, output shapes and parameter counts", cmdSummary},
	{"models", "list the models of the zoo", cmdModels},
	{"augment", "write a PNG grid of images under random augmentations", cmdAugment},
	{"finetune", "train a pretrained model on a new task (transfer learning)", cmdFinetune},
	{"serve", "serve a model over HTTP, with dynamic batching and metrics", cmdServe},
	{"compare", "compare models: parameters, MACs, memory, images/s on this machine", cmdCompare},
	{"explain", "show where a model looks in images (Grad-CAM, saliency) as a PNG", cmdExplain},
	{"features", "list a model's feature stages, or draw its filters or an image's feature maps", cmdFeatures},
	{"embed", "write one feature vector per image (safetensors or CSV)", cmdEmbed},
	{"export", "write a model as an ONNX file", cmdExport},
	{"convert", "write PyTorch (.pth), ONNX or other weights as a fovea model file", cmdConvert},
	{"run", "run a model's raw forward pass on a tensor file", cmdRun},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: fovea <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.help)
	}
	fmt.Fprintf(w, "\n'fovea <command> -h' lists a command's flags.\n")
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			// A bug in fovea, not in the user's input: say so in one
			// line, and keep the trace for a report when asked.
			fmt.Fprintf(stderr, "fovea: internal error: %v (set FOVEA_TRACE=1 for the stack)\n", r)
			if os.Getenv("FOVEA_TRACE") != "" {
				stderr.Write(debug.Stack())
			}
			status = 3
		}
	}()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			}
			// One line, whatever a file name or a file's text quoted in
			// the message holds.
			msg := strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(err.Error())
			fmt.Fprintf(stderr, "fovea %s: %s\n", c.name, msg)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "fovea: unknown command %q (fovea help lists the commands)\n", args[0])
	return 2
}

// newFlags returns a command's flag set, whose -h prints usage (if not
// empty) before the flags.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if usage != "" {
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), usage)
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses a command's flags wherever they stand among its
// positional arguments (fovea predict a.png --k 5 b.png), and returns the
// positional arguments in order. Everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := parseOnce(fs, args, stderr); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parse parses the flags of a command that takes no positional
// arguments, wherever they stand.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	pos, err := parseArgs(fs, args, stderr)
	if err == nil && len(pos) > 0 {
		return usagef("unexpected argument %q (%s takes flags only; -h lists them)", pos[0], fs.Name())
	}
	return err
}

// parseOnce parses a command's flags up to the first positional
// argument, turning a flag error into a one-line usage error; -h prints
// the flags.
func parseOnce(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard) // the error comes back to be printed once
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(stderr)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		if usage != nil {
			usage()
		} else {
			fmt.Fprintf(stderr, "usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return err
	}
	return usagef("%v (%s -h lists the flags)", err, fs.Name())
}
