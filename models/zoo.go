package models

import (
	"fmt"

	"github.com/foveaml/fovea/nn"
)

// The zoo's registry entries, under torchvision's names where the
// architecture is torchvision's (resnet50, vgg16_bn, alexnet, googlenet).
// Options.Classes 0 takes 1000 for the ImageNet models and 10 for the
// CIFAR ResNets.
func init() {
	for _, d := range []int{18, 34, 50, 101, 152} {
		Register(Spec{
			Name: fmt.Sprintf("resnet%d", d), Input: []int{224, 224, 3},
			Doc: fmt.Sprintf("ResNet-%d (torchvision), 224×224×3 input%s", d, resnetDocCount[d]),
			New: func(o Options) (nn.Layer, error) {
				return NewResNet(ResNetConfig{Depth: d, Classes: o.Classes, Seed: o.Seed})
			},
		})
		Register(Spec{
			Name: fmt.Sprintf("resnet%d_cifar", d), Input: []int{32, 32, 3},
			Doc: fmt.Sprintf("ResNet-%d, CIFAR form (3×3 stem, no max pooling), 32×32×3 input, 10 classes", d),
			New: func(o Options) (nn.Layer, error) {
				return NewResNet(ResNetConfig{Depth: d, CIFAR: true, Classes: or(o.Classes, 10), Seed: o.Seed})
			},
		})
	}
	for _, d := range []int{11, 13, 16, 19} {
		for _, bn := range []bool{false, true} {
			name, doc := fmt.Sprintf("vgg%d", d), fmt.Sprintf("VGG-%d (torchvision), 224×224×3 input", d)
			if bn {
				name, doc = name+"_bn", fmt.Sprintf("VGG-%d with batch norm (torchvision), 224×224×3 input", d)
			}
			if d == 16 && !bn {
				doc += ", 138,357,544 parameters"
			}
			Register(Spec{Name: name, Doc: doc, Input: []int{224, 224, 3}, New: func(o Options) (nn.Layer, error) {
				return NewVGG(VGGConfig{Depth: d, BatchNorm: bn, Classes: o.Classes, Seed: o.Seed})
			}})
		}
	}
	Register(Spec{Name: "alexnet", Input: []int{224, 224, 3},
		Doc: "AlexNet (torchvision: 64-192-384-256-256, no LRN), 224×224×3 input, 61,100,840 parameters",
		New: func(o Options) (nn.Layer, error) {
			return NewAlexNet(AlexNetConfig{Classes: o.Classes, Seed: o.Seed})
		}})
	Register(Spec{Name: "alexnet_paper", Input: []int{227, 227, 3},
		Doc: "AlexNet as in the 2012 paper (96-256-384-384-256, LRN, no groups), 227×227×3 input, 62,378,344 parameters",
		New: func(o Options) (nn.Layer, error) {
			return NewAlexNet(AlexNetConfig{Paper: true, Classes: o.Classes, Seed: o.Seed})
		}})
	Register(Spec{Name: "alexnet_paper_groups", Input: []int{227, 227, 3},
		Doc: "AlexNet as in the 2012 paper with its two-GPU grouped conv2, conv4, conv5, 227×227×3 input, 60,965,224 parameters",
		New: func(o Options) (nn.Layer, error) {
			return NewAlexNet(AlexNetConfig{Paper: true, TwoGroups: true, Classes: o.Classes, Seed: o.Seed})
		}})
	Register(Spec{Name: "googlenet", Input: []int{224, 224, 3},
		Doc: "GoogLeNet / Inception v1 (torchvision, batch norm), 224×224×3 input, 6,624,904 parameters",
		New: func(o Options) (nn.Layer, error) {
			return NewGoogLeNet(GoogLeNetConfig{Classes: o.Classes, Seed: o.Seed})
		}})
	Register(Spec{Name: "googlenet_aux", Input: []int{224, 224, 3},
		Doc: "GoogLeNet with its two auxiliary classifiers, trained with loss main + 0.3·(aux1 + aux2)",
		New: func(o Options) (nn.Layer, error) {
			return NewGoogLeNet(GoogLeNetConfig{Classes: o.Classes, AuxLogits: true, Seed: o.Seed})
		}})
}

var resnetDocCount = map[int]string{18: ", 11,689,512 parameters", 50: ", 25,557,032 parameters"}
