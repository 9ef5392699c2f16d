package models

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/foveaml/fovea/ag"
	"github.com/foveaml/fovea/nn"
	"github.com/foveaml/fovea/tensor"
)

// For every model of the registry: the layers the forward pass calls
// and the parameters' names agree (each parameter lies in exactly one
// called layer that holds it, with the same count), the model's About
// input is its registry input, and FreezeUpTo(name) and Capture(name)
// pick the same layer for the heads and a spread of the model's layers.
func TestCallPathsAgreeWithParameterNames(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			spec, _ := Lookup(name)
			m, err := spec.New(Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if a := nn.AboutOf(m); !slices.Equal(a.Input, spec.Input) {
				t.Errorf("About().Input %v, registry input %v", a.Input, spec.Input)
			}
			in := smallestInput(t, m, spec.Input)
			info, err := nn.Summarize(m, in...)
			if err != nil {
				t.Fatal(err)
			}
			// The parameters each called leaf holds, by call path.
			called := map[string]int{}
			for _, r := range info.Layers {
				if r.Params > 0 {
					called[r.Name] += r.Params
				}
			}
			aux := nn.AboutOf(m).Aux
			owned := map[string]int{}
			for _, p := range m.Params() {
				layer := p.Name[:strings.LastIndexByte(p.Name, '.')]
				if nn.MatchAny(aux, layer) {
					continue // computes only in training; checked below
				}
				if _, ok := called[layer]; !ok {
					t.Errorf("parameter %s: the forward pass calls no layer %s", p.Name, layer)
				}
				owned[layer] += p.Var.Value().Len()
			}
			for layer, n := range called {
				if owned[layer] != n {
					t.Errorf("layer %s: called with %d parameter values, its parameter names hold %d", layer, n, owned[layer])
				}
			}
			names := spread(nn.LayerNames(m), 6)
			for _, h := range nn.Heads(m) {
				if !slices.Contains(names, h) {
					names = append(names, h)
				}
			}
			for _, layer := range names {
				checkFreezeMatchesCapture(t, m, layer, in, nn.MatchAny(aux, layer))
			}
		})
	}
}

// smallestInput returns the smallest of a few square sides at which m
// runs (the registry's input last), to keep the test quick.
func smallestInput(t *testing.T, m nn.Layer, input []int) []int {
	t.Helper()
	for _, side := range []int{32, 64, 128} {
		if side >= input[0] {
			break
		}
		in := []int{side, side, input[2]}
		if _, err := nn.Summarize(m, in...); err == nil {
			return in
		}
	}
	return input
}

// checkFreezeMatchesCapture checks that the last parameter FreezeUpTo
// freezes belongs to the layer Capture returns, and that all of that
// layer's parameters are frozen.
func checkFreezeMatchesCapture(t *testing.T, m nn.Layer, layer string, in []int, training bool) {
	t.Helper()
	tp := ag.NewTape()
	tp.SetGradEnabled(false)
	defer tp.Reset()
	x := ag.Const(tensor.Zeros(append([]int{2}, in...)...)) // two: batch norms that train need them
	capture := nn.Capture
	if training {
		capture = nn.CaptureTraining
	}
	got, _, err := capture(tp, m, layer, x)
	if err != nil {
		t.Errorf("Capture(%s): %v", layer, err)
		return
	}
	defer nn.Freeze(m, false)
	if err := nn.FreezeUpTo(m, layer); err != nil {
		t.Errorf("FreezeUpTo(%s): %v", layer, err)
		return
	}
	var last *ag.Var
	for _, p := range m.Params() {
		if !p.Trainable() {
			last = p.Var
		}
	}
	mine := false
	for _, p := range got.Params() {
		if p.Trainable() {
			t.Errorf("FreezeUpTo(%s) leaves %s of the captured layer trainable", layer, p.Name)
		}
		mine = mine || p.Var == last
	}
	if !mine {
		t.Errorf("FreezeUpTo(%s) stops at a parameter that the layer Capture(%s) does not hold", layer, layer)
	}
}

// spread returns at most n of names, evenly spaced, first and last
// included.
func spread(names []string, n int) []string {
	if len(names) <= n {
		return names
	}
	var out []string
	for i := range n {
		out = append(out, names[i*(len(names)-1)/(n-1)])
	}
	return out
}

// No zoo model writes a child's name twice: in models/, every name a
// child is declared with (nn.Add) or called under (Call) is written once
// in the code of its type (the type's methods and constructors), and
// every container type (one that embeds nn.Module) has its names
// checked so.
func TestChildNamesWrittenOnce(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	checked := 0
	containers := map[string]string{} // type name: its file
	checkedOf := map[string]int{}     // type name: child names checked
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The string literals of each type's code, and those that name
		// children.
		lits := map[string]map[string]int{}
		names := map[string]map[string]bool{}
		for _, d := range file.Decls {
			if g, ok := d.(*ast.GenDecl); ok {
				for _, sp := range g.Specs {
					if ts, ok := sp.(*ast.TypeSpec); ok && embedsModule(ts) {
						containers[ts.Name.Name] = f
					}
				}
			}
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			owner := ownerOf(fn)
			if lits[owner] == nil {
				lits[owner], names[owner] = map[string]int{}, map[string]bool{}
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind == token.STRING {
						s, _ := strconv.Unquote(n.Value)
						lits[owner][s]++
					}
				case *ast.CallExpr:
					if s := childName(n); s != "" {
						names[owner][s] = true
					}
				}
				return true
			})
		}
		for owner, ns := range names {
			for n := range ns {
				checked++
				checkedOf[owner]++
				if lits[owner][n] > 1 {
					t.Errorf("%s: %s writes the child name %q %d times", f, owner, n, lits[owner][n])
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("found only %d child names in models/; the check is not reading the code", checked)
	}
	for typ, f := range containers {
		if checkedOf[typ] == 0 {
			t.Errorf("%s: the container %s declares or calls no child by a name this check can read (a literal, or a literal plus an index)", f, typ)
		}
	}
	if len(containers) < 8 {
		t.Errorf("found %d container types in models/; the check is not reading the code", len(containers))
	}
}

// embedsModule reports whether the type ts is a struct embedding
// nn.Module.
func embedsModule(ts *ast.TypeSpec) bool {
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return false
	}
	for _, f := range st.Fields.List {
		if sel, ok := f.Type.(*ast.SelectorExpr); ok && len(f.Names) == 0 && sel.Sel.Name == "Module" {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "nn" {
				return true
			}
		}
	}
	return false
}

// ownerOf names the type whose code fn is: its receiver's, or the type a
// constructor new<T>/New<T> returns, else fn's own name.
func ownerOf(fn *ast.FuncDecl) string {
	typeName := func(e ast.Expr) string {
		if s, ok := e.(*ast.StarExpr); ok {
			e = s.X
		}
		if id, ok := e.(*ast.Ident); ok {
			return id.Name
		}
		return ""
	}
	if fn.Recv != nil && len(fn.Recv.List) == 1 {
		return typeName(fn.Recv.List[0].Type)
	}
	if r := fn.Type.Results; r != nil && len(r.List) > 0 && strings.HasPrefix(strings.ToLower(fn.Name.Name), "new") {
		if n := typeName(r.List[0].Type); n != "" {
			return n
		}
	}
	return fn.Name.Name
}

// childName returns the name literal of a call nn.Add(m, "name", l) or
// x.Call("name", l, v), or "".
func childName(call *ast.CallExpr) string {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		if ix, ok := call.Fun.(*ast.IndexExpr); ok { // nn.Add[T](...)
			sel, _ = ix.X.(*ast.SelectorExpr)
		}
	}
	if sel == nil {
		return ""
	}
	arg := -1
	switch sel.Sel.Name {
	case "Add":
		arg = 1
	case "Call":
		arg = 0
	}
	if arg < 0 || len(call.Args) <= arg {
		return ""
	}
	if lit, ok := call.Args[arg].(*ast.BasicLit); ok && lit.Kind == token.STRING {
		s, _ := strconv.Unquote(lit.Value)
		return s
	}
	if bin, ok := call.Args[arg].(*ast.BinaryExpr); ok { // "layer"+strconv.Itoa(i)
		if lit, ok := bin.X.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			return s
		}
	}
	return ""
}
