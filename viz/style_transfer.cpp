#include "viz/style_transfer.h"

#include <algorithm>

#include "autograd/ops.h"
#include "kernels/gram.h"
#include "kernels/optimizer.h"
#include "kernels/random.h"
#include "layers/capture.h"
#include "viz/lbfgs.h"

namespace cs::viz {

namespace {

struct Targets {
  Tensor content;             // features of the content image at the content layer
  std::vector<Tensor> grams;  // Gram matrices of the style image, per style layer
};

std::vector<std::string> all_layers(const StyleOptions& o) {
  std::vector<std::string> layers = o.style_layers;
  layers.push_back(o.content_layer);
  return layers;
}

void check_options(nn::Module& net, const StyleOptions& o) {
  CS_CHECK(!o.style_layers.empty(), "style transfer needs at least one style layer");
  CS_CHECK(o.style_layer_weights.empty() || o.style_layer_weights.size() == o.style_layers.size(),
           "style transfer: " << o.style_layer_weights.size() << " weights for "
                              << o.style_layers.size() << " style layers");
  for (const std::string& l : all_layers(o))
    CS_CHECK(net.find(l) != nullptr, "no layer '" << l << "' in the model (see `convscope summary`)");
  CS_CHECK(o.optimizer == "lbfgs" || o.optimizer == "adam",
           "unknown optimizer '" << o.optimizer << "' for style transfer (lbfgs or adam)");
  CS_CHECK(o.steps >= 1, "style transfer needs at least one step");
}

Tensor batch_of_one(const Tensor& image) {
  return image.ndim() == 4 ? image : image.reshape({1, image.dim(0), image.dim(1), image.dim(2)});
}

Targets compute_targets(nn::Module& net, const Tensor& content, const Tensor& style, const StyleOptions& o) {
  ag::NoGradGuard no_grad;
  Targets t;
  {
    nn::ActivationCapture capture({o.content_layer}, true);
    net(ag::Variable(batch_of_one(content)));
    t.content = capture.get(o.content_layer).value().clone();
  }
  nn::ActivationCapture capture(o.style_layers, true);
  net(ag::Variable(batch_of_one(style)));
  for (const std::string& l : o.style_layers) {
    const Tensor f = capture.get(l).value();
    CS_CHECK(f.ndim() == 4, "style layer '" << l << "' must be convolutional, it gives " << shape_str(f.shape()));
    Tensor g = Tensor::empty({f.dim(0), f.dim(1), f.dim(1)}, f.device());
    kernels::gram_forward(f, g);
    t.grams.push_back(g);
  }
  return t;
}

ag::Variable mean_squared_difference(const ag::Variable& a, const Tensor& target) {
  const ag::Variable d = ag::sub(a, ag::Variable(target));
  return ag::mean(ag::mul(d, d));
}

// The total loss of x (a leaf that requires a gradient) and its parts.
ag::Variable total_loss(nn::Module& net, const ag::Variable& x, const Targets& t,
                        const StyleOptions& o, StyleLosses& parts) {
  nn::ActivationCapture capture(all_layers(o), true);
  net(x);
  const ag::Variable content = ag::scale(mean_squared_difference(capture.get(o.content_layer), t.content),
                                         o.content_weight);
  ag::Variable style;
  for (size_t i = 0; i < o.style_layers.size(); ++i) {
    const double w = o.style_layer_weights.empty() ? 1.0 / o.style_layers.size() : o.style_layer_weights[i];
    const ag::Variable term =
        ag::scale(mean_squared_difference(ag::gram(capture.get(o.style_layers[i])), t.grams[i]), w * o.style_weight);
    style = style.defined() ? ag::add(style, term) : term;
  }
  const ag::Variable tv = ag::scale(ag::total_variation(x), o.tv_weight);
  const ag::Variable total = ag::add(ag::add(content, style), tv);
  parts.content = content.value().item();
  parts.style = style.value().item();
  parts.tv = tv.value().item();
  parts.total = total.value().item();
  return total;
}

}  // namespace

StyleLosses style_losses(nn::Module& net, const Tensor& image, const Tensor& content,
                         const Tensor& style, const StyleOptions& o) {
  check_options(net, o);
  const bool was_training = net.training();
  net.eval();
  const Targets t = compute_targets(net, content, style, o);
  StyleLosses parts;
  {
    ag::NoGradGuard no_grad;
    total_loss(net, ag::Variable(batch_of_one(image)), t, o, parts);
  }
  net.train(was_training);
  return parts;
}

StyleResult style_transfer(nn::Module& net, const Tensor& content, const Tensor& style,
                           const StyleOptions& o) {
  check_options(net, o);
  CS_CHECK(content.ndim() == 3 && style.ndim() == 3 && content.dim(0) == style.dim(0),
           "style transfer: content " << shape_str(content.shape()) << " and style "
                                      << shape_str(style.shape()) << " must be (C, H, W) with the same C");
  const bool was_training = net.training();
  net.eval();
  nn::FrozenParameters frozen(net);
  const Targets t = compute_targets(net, content, style, o);
  Tensor x = batch_of_one(content).clone();
  if (!o.start_from_content) kernels::normal_(x, o.seed, 0, 0.0, 0.5);
  StyleResult result;
  auto keep_frame = [&](int step) {
    if (o.frame_every > 0 && step % o.frame_every == 0) {
      result.frames.push_back(x.reshape(content.shape()).to(Device::cpu()));
      result.frame_steps.push_back(step);
    }
  };
  if (o.optimizer == "adam") {
    Tensor m = Tensor::zeros_like(x), v = Tensor::zeros_like(x);
    for (int step = 0; step < o.steps; ++step) {
      keep_frame(step);
      ag::clear_tape();
      ag::Variable xv(x, true, "image");
      StyleLosses parts;
      const ag::Variable loss = total_loss(net, xv, t, o, parts);
      result.history.push_back(parts);
      ag::backward(loss);
      kernels::AdamArgs a;
      a.lr = o.lr;
      a.step = step + 1;
      kernels::adam_step(x, xv.grad(), m, v, a);
    }
  } else {
    StyleLosses last;
    int iteration = 0;
    const Objective f = [&](const Tensor& at, Tensor& grad) {
      ag::clear_tape();
      ag::Variable xv(at.clone(), true, "image");
      const ag::Variable loss = total_loss(net, xv, t, o, last);
      ag::backward(loss);
      grad.copy_from(xv.grad());
      return last.total;
    };
    LbfgsOptions lo;
    lo.max_iterations = o.steps;
    lo.initial_step = 1.0;
    keep_frame(0);
    lbfgs_minimize(f, x, lo, [&](int, double) {
      result.history.push_back(last);  // the accepted point was evaluated last
      keep_frame(++iteration);
    });
  }
  net.train(was_training);
  result.image = x.reshape(content.shape()).to(Device::cpu());
  return result;
}

}  // namespace cs::viz
