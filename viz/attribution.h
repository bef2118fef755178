// Which pixels matter for a decision: gradients of a class score with
// respect to the input, all on convscope's tape (no layer patching).
//   saliency       (Simonyan et al. 2013): d score / d pixels, standard ReLU rule;
//                  the map is max over channels of |gradient|
//   guided backprop (Springenberg et al. 2014): the same pass, guided ReLU rule
//   Grad-CAM       (Selvaraju et al. 2017): channel weights = spatial mean of
//                  d score / d A at a conv layer; map = ReLU(sum_k w_k A_k),
//                  upsampled bilinearly to the input
//   SmoothGrad     (Smilkov et al. 2017): saliency averaged over noisy copies
#pragma once

#include <string>
#include <vector>

#include "autograd/tape.h"
#include "layers/module.h"

namespace cs::viz {

// images: (B, C, H, W) prepared inputs on the model's device. classes: one per
// image, or empty for each image's predicted class (returned in `classes_used`).
struct InputGradients {
  Tensor gradients;  // (B, C, H, W) on the CPU: d score / d input
  Tensor maps;       // (B, H, W): max over channels of |gradient|
  std::vector<int> classes;
  std::vector<float> scores;  // the class scores (logits)
};

InputGradients class_gradients(nn::Module& net, const Tensor& images, std::vector<int> classes,
                               ag::ReluRule rule);

struct GradCam {
  Tensor maps;        // (B, H, W) upsampled to the input, >= 0, on the CPU
  Tensor raw;         // (B, h, w) at the layer's resolution
  std::vector<int> classes;
};

GradCam grad_cam(nn::Module& net, const Tensor& images, std::vector<int> classes,
                 const std::string& layer);

struct SmoothGradOptions {
  int samples = 25;
  double noise = 0.15;  // standard deviation, as a fraction of each image's value range
  uint64_t seed = 1;
};

// Mean over noisy copies of the saliency map (B, H, W) (and of the signed gradients).
InputGradients smooth_grad(nn::Module& net, const Tensor& images, std::vector<int> classes,
                           const SmoothGradOptions& options);

// The predicted class of each image (one forward pass, eval mode).
std::vector<int> predict_classes(nn::Module& net, const Tensor& images);

}  // namespace cs::viz
