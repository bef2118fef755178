// Training curves, confusion matrix and per-class accuracy of a run.
#include <cstdio>

#include "runtime/file_io.h"
#include "viz/csv.h"
#include "viz/figures.h"
#include "viz/svg.h"

namespace cs::viz {

void write_training_figures(const std::string& run_dir, const std::vector<models::EpochRecord>& history,
                            const models::Evaluation& test, const std::vector<std::string>& class_names) {
  const std::string dir = run_dir + "/training";
  make_directories(dir);
  Series train_loss{"train loss", {}, {}}, test_loss{"test loss", {}, {}}, accuracy{"test accuracy", {}, {}},
      train_accuracy{"train accuracy", {}, {}};
  CsvWriter metrics({"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds", "images_per_second"});
  for (const models::EpochRecord& r : history) {
    const double e = static_cast<double>(r.epoch);
    train_loss.x.push_back(e);
    train_loss.y.push_back(r.train_loss);
    test_loss.x.push_back(e);
    test_loss.y.push_back(r.test_loss);
    accuracy.x.push_back(e);
    accuracy.y.push_back(100 * r.test_accuracy);
    train_accuracy.x.push_back(e);
    train_accuracy.y.push_back(100 * r.train_accuracy);
    metrics.add_numbers({e, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, r.lr, r.seconds, r.images_per_second});
  }
  metrics.save(dir + "/metrics.csv");
  LinePlotOptions loss_options;
  loss_options.text = {"Loss per epoch", "epoch", "cross-entropy"};
  save_svg(dir + "/loss.svg", line_plot({train_loss, test_loss}, loss_options));
  LinePlotOptions acc_options;
  acc_options.text = {"Accuracy per epoch", "epoch", "accuracy (%)"};
  save_svg(dir + "/accuracy.svg", line_plot({train_accuracy, accuracy}, acc_options));

  const int64_t k = static_cast<int64_t>(test.confusion.size());
  std::vector<float> cells;
  CsvWriter confusion_csv([&] {
    std::vector<std::string> h = {"true \\ predicted"};
    h.insert(h.end(), class_names.begin(), class_names.end());
    return h;
  }());
  for (int64_t r = 0; r < k; ++r) {
    std::vector<CsvCell> row = {class_names[static_cast<size_t>(r)]};
    for (int64_t c = 0; c < k; ++c) {
      cells.push_back(static_cast<float>(test.confusion[r][c]));
      row.push_back(static_cast<double>(test.confusion[r][c]));
    }
    confusion_csv.add_row(row);
  }
  confusion_csv.save(dir + "/confusion.csv");
  MatrixOptions m;
  m.text = {"Confusion matrix (test set)", "predicted", "true"};
  m.row_labels = m.col_labels = class_names;
  m.color_by_row = true;
  save_svg(dir + "/confusion.svg", matrix_heatmap(Tensor::from_vector(cells, {k, k}), m));
  BarOptions b;
  b.text = {"Accuracy per class (test set)", "", "accuracy"};
  b.y_max = 1.0;
  save_svg(dir + "/per_class.svg", bar_chart(class_names, test.per_class_accuracy, b));

  Section s;
  s.heading = "Training";
  char text[512];
  std::snprintf(text, sizeof text,
                "After %zu epochs the model classifies %.2f%% of the %lld test images correctly "
                "(test loss %.4f).",
                history.size(), 100 * test.accuracy, static_cast<long long>(test.examples), test.loss);
  s.text = text;
  s.figures.push_back({"training/loss.svg",
                       "Cross-entropy on the training set (averaged over each epoch) and on the test set "
                       "after each epoch. A test loss that rises while the training loss falls is overfitting.",
                       0, {"training/metrics.csv"}});
  s.figures.push_back({"training/accuracy.svg",
                       "Accuracy on the training batches (with dropout and augmentation on, averaged over "
                       "the epoch) and on the test set after each epoch.",
                       0, {}});
  s.figures.push_back({"training/confusion.svg",
                       "Row r, column c counts the test images of class r that the model called c; the "
                       "diagonal holds the correct answers, colour shows each row's share.",
                       0, {"training/confusion.csv"}});
  s.figures.push_back({"training/per_class.svg", "The fraction of each class's test images classified correctly.", 0, {}});
  save_section_file(dir, 10, s);
}

}  // namespace cs::viz
