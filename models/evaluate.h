// Evaluation of a classifier on a dataset split: loss, accuracy, per-class
// accuracy, confusion matrix and every prediction.
#pragma once

#include <vector>

#include "layers/module.h"
#include "models/data.h"

namespace cs::models {

struct Evaluation {
  int64_t examples = 0;
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction correct
  std::vector<double> per_class_accuracy;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  std::vector<int32_t> predictions;
};

// Runs `net` in eval mode without recording; restores its mode afterwards.
Evaluation evaluate(nn::Module& net, const DataSplit& split, const DataSource& source,
                    const Shape& model_input, int classes, int64_t batch_size = 1000);

}  // namespace cs::models
