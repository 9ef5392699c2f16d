// Package models is fovea's model zoo, with a registry by name so that
// the fovea command (and any program) can build a model from a string.
//
//	spec, err := models.Lookup("lenet5")
//	if err != nil { ... }
//	m, err := spec.New(models.Options{Classes: 10, Seed: 1})
//	fmt.Println(nn.Summary(m, spec.Input...))
//
// The zoo: LeNet-5 (NewLeNet5), AlexNet in torchvision's and the paper's
// forms (NewAlexNet), VGG 11/13/16/19 with and without batch norm
// (NewVGG), ResNet 18/34/50/101/152 and their CIFAR forms (NewResNet) and
// GoogLeNet with optional auxiliary classifiers (NewGoogLeNet), each with
// a config struct whose zero values are the usual defaults. Models that
// match torchvision's have its parameter names and counts, and
// LoadTorchvision loads its state dicts (OIHW filters, [out, in] Linear
// weights and (c, h, w) flatten order converted to fovea's layouts):
//
//	sd, _, err := weights.Load("resnet50.safetensors") // torchvision's state dict
//	m, _ := models.NewResNet(models.ResNetConfig{Depth: 50})
//	_, err = models.LoadTorchvision(m, sd, true)
//
// A model file classifies images in one call, prepared as the file says
// (LoadClassifier):
//
//	c, err := models.LoadClassifier("", "runs/resnet18/model.safetensors")
//	probs, err := c.Probabilities(img) // [1, classes]; c.Classes names them
package models
