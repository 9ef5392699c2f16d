package models

import (
	"testing"

	"github.com/foveaml/fovea/nn"
)

// torchvisionParams are the parameter counts of torchvision 0.14's models
// at their default classes (the CIFAR ResNets: torchvision's ResNet with 10
// classes and a 3×3 stem), which the zoo must equal exactly.
var torchvisionParams = map[string]int{
	"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032, "resnet101": 44549160, "resnet152": 60192808,
	"resnet18_cifar": 11173962, "resnet34_cifar": 21282122, "resnet50_cifar": 23520842,
	"resnet101_cifar": 42512970, "resnet152_cifar": 58156618,
	"vgg11": 132863336, "vgg11_bn": 132868840, "vgg13": 133047848, "vgg13_bn": 133053736,
	"vgg16": 138357544, "vgg16_bn": 138365992, "vgg19": 143667240, "vgg19_bn": 143678248,
	"alexnet": 61100840, "googlenet": 6624904, "googlenet_aux": 13004888,
	"alexnet_paper":        62378344, // not torchvision's: the paper's layers without groups
	"alexnet_paper_groups": 60965224, // conv2, conv4, conv5 in two groups
}

func TestZooNames(t *testing.T) {
	for _, c := range []struct {
		model string
		names []string
	}{
		{"resnet18", []string{"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
			"layer2.0.downsample.1.running_var", "fc.weight", "fc.bias"}},
		{"resnet50_cifar", []string{"layer1.0.downsample.1.bias", "layer4.2.conv3.weight", "layer4.2.bn3.running_mean"}},
		{"vgg11_bn", []string{"features.0.weight", "features.1.running_var", "classifier.0.weight", "classifier.3.bias", "classifier.6.weight"}},
		{"alexnet", []string{"features.0.weight", "features.10.bias", "classifier.1.weight", "classifier.4.weight", "classifier.6.bias"}},
		{"googlenet_aux", []string{"conv1.conv.weight", "conv1.bn.running_mean", "inception3a.branch2.1.conv.weight",
			"inception5b.branch4.1.bn.bias", "aux1.conv.conv.weight", "aux2.fc1.weight", "aux2.fc2.bias", "fc.weight"}},
	} {
		s, _ := Lookup(c.model)
		m, err := s.New(Options{Classes: 3})
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, p := range nn.State(m) {
			have[p.Name] = true
		}
		for _, n := range c.names {
			if !have[n] {
				t.Errorf("%s has no parameter or buffer %s", c.model, n)
			}
		}
	}
}
