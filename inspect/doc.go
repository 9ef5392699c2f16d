// Package inspect looks inside convolutional networks: what a model
// costs (Profile: parameters, multiply-accumulates, memory; Measure:
// images per second on this machine), where it looks (GradCAM,
// Saliency), and what its layers compute (filter and feature-map grids),
// with PNG renderings and charts of the figures.
//
//	p, _ := inspect.Profile(resnet50, 224, 224, 3)
//	fmt.Println(p.MACs) // 4089184256, torchvision's 4.09 "GFLOPS"
//	cam, _ := inspect.GradCAM(resnet50, x, "layer4", -1) // x [1 224 224 3], the top class
//	pic := inspect.Picture{H: 224, W: 224, C: 3, Pix: rgb} // x before normalisation
//	img, _ := inspect.Overlay(pic, cam.Upsampled(224, 224), 0.5, 1)
//	inspect.WritePNG("cam.png", img)
//
// Everything here is built on nn.Ctx's Observe hook and
// nn.FeatureExtractor: a model needs nothing of its own to be inspected.
package inspect
