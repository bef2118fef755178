#include "viz/feature_maps.h"

#include "autograd/tape.h"
#include "layers/capture.h"

namespace cs::viz {

Tensor feature_maps(nn::Module& net, const Tensor& image, const std::string& layer) {
  CS_CHECK(net.find(layer) != nullptr, "no layer '" << layer << "' in the model (see `convscope summary`)");
  const Tensor batch = image.ndim() == 3 ? image.reshape({1, image.dim(0), image.dim(1), image.dim(2)})
                                         : image;
  CS_CHECK(batch.ndim() == 4 && batch.dim(0) == 1,
           "feature_maps: expected one image (C, H, W), got " << shape_str(image.shape()));
  const bool was_training = net.training();
  net.eval();
  ag::NoGradGuard no_grad;
  nn::ActivationCapture capture({layer}, true);
  net(ag::Variable(batch));
  net.train(was_training);
  const Tensor out = capture.get(layer).value();
  Shape shape(out.shape().begin() + 1, out.shape().end());
  return out.to(Device::cpu()).reshape(shape);
}

}  // namespace cs::viz
