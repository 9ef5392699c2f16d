package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/foveaml/fovea/models"
	"github.com/foveaml/fovea/serve"
)

// A program mounts the inference endpoint under a prefix of its own
// server, beside its own routes; serve.Load would read a weights file
// as fovea serve does.
func Example() {
	net, err := models.NewLeNet5(models.LeNetConfig{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	m, err := serve.NewModel("lenet5", net, []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
	if err != nil {
		log.Fatal(err)
	}
	s := serve.New(m, serve.Options{MaxBatch: 8})
	defer s.Close() // after the HTTP server has stopped

	mux := http.NewServeMux()
	mux.Handle("/ml/", http.StripPrefix("/ml", s))
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello") })
	srv := httptest.NewServer(mux) // or http.ListenAndServe(addr, mux)
	defer srv.Close()

	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 28, 28)))
	resp, err := http.Post(srv.URL+"/ml/v1/predict?k=2", "image/png", &img)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var answer serve.Response
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, answer.Model, len(answer.Results), "image,", len(answer.Results[0].Predictions), "classes")
	// Output: 200 OK lenet5 1 image, 2 classes
}
