package tensor_test

import (
	"fmt"

	"github.com/foveaml/fovea/tensor"
)

func Example() {
	x := tensor.Zeros(2, 3)
	x.Set(1, 0, 2)
	y, err := x.Reshape(3, -1) // a view: y shares x's data
	fmt.Println(y, err)
	_, err = x.Reshape(4, 2)
	fmt.Println(err)
	// Output:
	// [[0 0]
	//  [1 0]
	//  [0 0]] <nil>
	// tensor.Reshape: cannot reshape [2 3] (6 values) to [4 2]
}
