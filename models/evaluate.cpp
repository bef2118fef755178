#include "models/evaluate.h"

#include "autograd/ops.h"
#include "kernels/tensor_ops.h"

namespace cs::models {

Evaluation evaluate(nn::Module& net, const DataSplit& split, const DataSource& source,
                    const Shape& model_input, int classes, int64_t batch_size) {
  const bool was_training = net.training();
  net.eval();
  ag::NoGradGuard no_grad;
  Evaluation result;
  result.confusion.assign(classes, std::vector<int64_t>(classes, 0));
  BatchIterator batches(split, source, batch_size, false, 0, model_input);
  Tensor images, labels;
  double loss_sum = 0;
  int64_t offset = 0;
  while (batches.next(images, labels)) {
    const ag::Variable logits = net(ag::Variable(images));
    CS_CHECK(logits.ndim() == 2 && logits.dim(1) == classes,
             "the model produced " << shape_str(logits.shape()) << " for " << classes << " classes");
    const ag::Variable loss = ag::cross_entropy(logits, labels);
    const int64_t count = labels.numel();
    loss_sum += loss.value().item() * static_cast<double>(count);
    Tensor predicted = Tensor::empty({count}, labels.device(), DType::I32);
    kernels::argmax_rows(logits.value(), predicted);
    for (int32_t p : predicted.to_vector<int32_t>()) {
      const int32_t truth = split.labels_host[offset++];
      result.confusion[truth][p] += 1;
      result.predictions.push_back(p);
    }
  }
  result.examples = offset;
  int64_t correct = 0;
  result.per_class_accuracy.assign(classes, 0.0);
  for (int c = 0; c < classes; ++c) {
    int64_t total = 0;
    for (int p = 0; p < classes; ++p) total += result.confusion[c][p];
    correct += result.confusion[c][c];
    result.per_class_accuracy[c] =
        total ? static_cast<double>(result.confusion[c][c]) / static_cast<double>(total) : 0.0;
  }
  result.loss = offset ? loss_sum / static_cast<double>(offset) : 0.0;
  result.accuracy = offset ? static_cast<double>(correct) / static_cast<double>(offset) : 0.0;
  net.train(was_training);
  return result;
}

}  // namespace cs::models
