// Feature space: neighbours in pixels vs features, PCA, t-SNE, and exports
// (NumPy, CSV, TensorBoard's embedding projector).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/file_io.h"
#include "runtime/npy.h"
#include "viz/colormap.h"
#include "viz/csv.h"
#include "viz/features.h"
#include "viz/figures.h"
#include "viz/grid.h"
#include "viz/neighbors.h"
#include "viz/pca.h"
#include "viz/svg.h"
#include "viz/tsne.h"

namespace cs::viz {

namespace {

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

// The TensorBoard projector's files: tensors.tsv, metadata.tsv, sprite.png, config.
void write_projector(VizContext& ctx, const models::DataSplit& split, const std::string& out,
                     const Tensor& features, const std::vector<int32_t>& labels, int64_t n) {
  make_directories(out);
  const std::vector<float> f = features.to(Device::cpu()).to_vector<float>();
  const int64_t d = features.dim(1);
  std::ostringstream tensors, metadata;
  metadata << "label\tclass\n";
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) tensors << (j ? "\t" : "") << f[i * d + j];
    tensors << "\n";
    metadata << labels[i] << "\t" << class_name(ctx, labels[i]) << "\n";
  }
  write_file_atomic(out + "/tensors.tsv", tensors.str());
  write_file_atomic(out + "/metadata.tsv", metadata.str());
  // Sprite: thumbnails in a square grid, row-major, at most 8192 px a side.
  const int64_t side = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t h = split.images.dim(2), w = split.images.dim(3);
  const int thumb = static_cast<int>(std::min<int64_t>(std::max(h, w), 8192 / std::max<int64_t>(side, 1)));
  Image sprite(static_cast<int>(side * thumb), static_cast<int>(side * thumb), kBlack);
  for (int64_t i = 0; i < n; ++i) {
    const Image raw = to_image(split.images.narrow(i, 1).reshape({split.images.dim(1), h, w}),
                               Normalization::fixed(0, 255));
    paste(sprite, resize_bilinear(raw, thumb, thumb), static_cast<int>((i % side) * thumb),
          static_cast<int>((i / side) * thumb));
  }
  sprite.save_png(out + "/sprite.png");
  std::ostringstream config;
  config << "embeddings {\n  tensor_name: \"convscope features\"\n  tensor_path: \"tensors.tsv\"\n"
         << "  metadata_path: \"metadata.tsv\"\n  sprite {\n    image_path: \"sprite.png\"\n"
         << "    single_image_dim: " << thumb << "\n    single_image_dim: " << thumb << "\n  }\n}\n";
  write_file_atomic(out + "/projector_config.pbtxt", config.str());
}

// The first two columns of an (N, dims) embedding: what the 2-D pictures show.
Tensor first_two(const Tensor& e) {
  if (e.dim(1) == 2) return e;
  const int64_t n = e.dim(0), d = e.dim(1);
  const std::vector<float> v = e.to(Device::cpu()).to_vector<float>();
  std::vector<float> out(static_cast<size_t>(2 * n));
  for (int64_t i = 0; i < n; ++i) out[2 * i] = v[i * d], out[2 * i + 1] = v[i * d + 1];
  return Tensor::from_vector(out, {n, 2});
}

// Thumbnails of the images at their embedded positions.
Image thumbnail_map(const models::DataSplit& split, const Tensor& embedding, int64_t n, int size) {
  const std::vector<float> e = embedding.to(Device::cpu()).to_vector<float>();
  const int64_t dims = embedding.dim(1);
  float lo[2] = {1e30f, 1e30f}, hi[2] = {-1e30f, -1e30f};
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) {
      lo[k] = std::min(lo[k], e[i * dims + k]);
      hi[k] = std::max(hi[k], e[i * dims + k]);
    }
  const int64_t h = split.images.dim(2), w = split.images.dim(3);
  const int thumb = 24, margin = thumb;
  Image canvas(size, size, kWhite);
  // At most ~1500 thumbnails, evenly spaced through the set, so they stay readable.
  const int64_t step = std::max<int64_t>(1, n / 1500);
  for (int64_t i = 0; i < n; i += step) {
    const int x = margin + static_cast<int>((e[i * dims] - lo[0]) / std::max(hi[0] - lo[0], 1e-12f) * (size - 2 * margin)) - thumb / 2;
    const int y = margin + static_cast<int>((e[i * dims + 1] - lo[1]) / std::max(hi[1] - lo[1], 1e-12f) * (size - 2 * margin)) - thumb / 2;
    Image raw = to_image(split.images.narrow(i, 1).reshape({split.images.dim(1), h, w}), Normalization::fixed(0, 255));
    Image t = resize_bilinear(raw, thumb, thumb);
    // A frame in the class colour.
    paste(canvas, add_border(t, 1, category_color(split.labels_host[static_cast<size_t>(i)])), x, y);
  }
  return canvas;
}

// The train split followed by the test split (FashionMNIST: all 70,000 images).
models::DataSplit both_splits(const models::DataSplit& train, const models::DataSplit& test) {
  CS_CHECK(train.size() > 0, "features: --split all needs the train split, which is not loaded");
  models::DataSplit all;
  Shape shape = train.images.shape();
  shape[0] = train.size() + test.size();
  all.images = Tensor::empty(shape, train.images.device(), train.images.dtype());
  all.images.narrow(0, train.size()).copy_from(train.images);
  all.images.narrow(train.size(), test.size()).copy_from(test.images);
  all.labels_host = train.labels_host;
  all.labels_host.insert(all.labels_host.end(), test.labels_host.begin(), test.labels_host.end());
  all.labels = Tensor::from_vector(all.labels_host, {shape[0]}, train.labels.device());
  return all;
}

}  // namespace

void feature_space_figure(VizContext& ctx, const FeatureSpaceOptions& o) {
  nn::Module& net = *ctx.model->net;
  CS_CHECK(o.split == "test" || o.split == "train" || o.split == "all",
           "features: --split must be train, test or all, got '" << o.split << "'");
  CS_CHECK(o.dims == 2 || o.dims == 3, "features: --dims must be 2 or 3, got " << o.dims);
  check_tsne_method(o.tsne_method, "features: --method");
  CS_CHECK(o.points >= 0, "features: --max-images must be >= 0 (0: the default), got " << o.points);
  CS_CHECK(o.neighbours >= 1 && o.queries >= 0, "features: --neighbours must be >= 1 and --queries >= 0");
  models::DataSplit combined;
  if (o.split == "all") combined = both_splits(ctx.data->train, ctx.data->test);
  const models::DataSplit& split = o.split == "all" ? combined : o.split == "train" ? ctx.data->train : ctx.data->test;
  const int64_t available = split.size();
  // --split all embeds everything by default; one split, 10k (GPU) or 2k (CPU).
  const int64_t fallback = o.split == "all" ? available : ctx.device.is_cuda() ? 10000 : 2000;
  const int64_t n = std::min(available, o.points > 0 ? o.points : fallback);
  CS_CHECK(n > o.neighbours + 1, "features: " << n << " " << o.split << " images are too few for " << o.neighbours
                                              << " neighbours (use --split train or more --max-images)");
  const std::string name = "feature_space";
  const std::string dir = output_dir(ctx, name);
  const std::string variant = variant_key(o.split + std::to_string(n) + (o.layer.empty() ? "" : "_" + o.layer) + "_" +
                                          std::to_string(o.dims) + "d_" + o.tsne_method);
  auto file = [&](const std::string& what) { return dir + "/" + variant + "_" + what; };
  auto rel = [&](const std::string& what) { return relative_path(name, variant + "_" + what); };
  const FeatureSet features = extract_features(net, split, *ctx.data, ctx.model->input_shape, o.layer, n);
  const FeatureSet pixels = pixel_features(split, n);
  const Tensor features_cpu = features.features.to(Device::cpu());
  save_npy(file("features.npy"), features_cpu);
  save_npy(file("labels.npy"), Tensor::from_vector(features.labels, {n}));
  {
    // The features as CSV too: index, label, then one column per dimension.
    const int64_t d = features_cpu.dim(1);
    std::vector<std::string> header = {"index", "label"};
    for (int64_t j = 0; j < d; ++j) header.push_back(std::string("f").append(std::to_string(j)));
    CsvWriter csv(header);
    const std::vector<float> f = features_cpu.to_vector<float>();
    std::vector<double> row(static_cast<size_t>(d + 2));
    for (int64_t i = 0; i < n; ++i) {
      row[0] = static_cast<double>(i);
      row[1] = features.labels[static_cast<size_t>(i)];
      for (int64_t j = 0; j < d; ++j) row[static_cast<size_t>(j + 2)] = f[static_cast<size_t>(i * d + j)];
      csv.add_numbers(row);
    }
    csv.save(file("features.csv"));
  }

  // ---- neighbours: leave-one-out k-NN in both spaces ----
  const kernels::Metric metric = kernels::parse_metric(o.metric);
  std::vector<int64_t> self(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) self[i] = i;
  const Neighbors in_pixels = nearest_neighbors(pixels.features, pixels.features, o.neighbours, metric, self);
  const Neighbors in_features = nearest_neighbors(features.features, features.features, o.neighbours, metric, self);
  const LabelAgreement pa = label_agreement(in_pixels, features.labels, features.labels);
  const LabelAgreement fa = label_agreement(in_features, features.labels, features.labels);
  CsvWriter agreement({"space", "neighbour_label_agreement", "knn_accuracy"});
  agreement.add_row({"pixels", pa.neighbour_agreement, pa.knn_accuracy});
  agreement.add_row({"features", fa.neighbour_agreement, fa.knn_accuracy});
  agreement.save(file("knn_accuracy.csv"));
  // Query rows: query | k nearest in pixels | k nearest in features.
  const int64_t h = split.images.dim(2), w = split.images.dim(3), c = split.images.dim(1);
  auto raw_tile = [&](int64_t i) {
    return enlarge(to_image(split.images.narrow(i, 1).reshape({c, h, w}), Normalization::fixed(0, 255)),
                   std::max(1, static_cast<int>(48 / std::max(h, w))));
  };
  std::vector<Image> tiles;
  std::vector<std::string> row_labels, captions;
  const std::vector<int32_t> pi = in_pixels.indices.to_vector<int32_t>(), fi = in_features.indices.to_vector<int32_t>();
  const int k = o.neighbours;
  for (int q = 0; q < std::min<int64_t>(o.queries, n); ++q) {
    const int64_t query = q * (n / std::max(1, o.queries));
    row_labels.push_back(class_name(ctx, features.labels[query]));
    tiles.push_back(raw_tile(query));
    captions.push_back("query");
    for (int j = 0; j < k; ++j) {
      const int32_t m = pi[query * k + j];
      tiles.push_back(raw_tile(m));
      captions.push_back(features.labels[m] == features.labels[query] ? "" : "x");
    }
    for (int j = 0; j < k; ++j) {
      const int32_t m = fi[query * k + j];
      tiles.push_back(raw_tile(m));
      captions.push_back(features.labels[m] == features.labels[query] ? "" : "x");
    }
  }
  GridOptions grid;
  grid.cols = 1 + 2 * k;
  grid.row_labels = row_labels;
  grid.captions = captions;
  grid.title = "query | " + std::to_string(k) + " nearest in pixel space | " + std::to_string(k) +
               " nearest in feature space (x: another class)";
  make_grid(tiles, grid).save_png(file("neighbours.png"));

  // ---- PCA ----
  const Pca p = pca(features.features, o.dims);
  const Tensor pca_cpu = p.projection.to(Device::cpu());
  save_npy(file("pca.npy"), pca_cpu);
  std::vector<int> labels(features.labels.begin(), features.labels.end());
  ScatterOptions scatter;
  scatter.class_names = ctx.data->class_names;
  scatter.radius = n > 5000 ? 1.2 : 2.0;
  scatter.text = {"PCA of the features (" + fixed(100 * (p.explained_ratio[0] + p.explained_ratio[1]), 1) +
                      "% of the variance)",
                  "component 1", "component 2"};
  save_svg(file("pca.svg"), scatter_plot(first_two(pca_cpu), labels, scatter));

  // ---- t-SNE ----
  TsneOptions t;
  t.iterations = o.tsne_iterations;
  t.perplexity = std::min(o.perplexity, (n - 2) / 3.0);
  t.dims = o.dims;
  t.method = o.tsne_method;
  const TsneResult tsne_result = tsne(features.features, t);
  save_npy(file("tsne.npy"), tsne_result.embedding);
  std::vector<std::string> header = {"index", "label", "class"};
  for (int k = 1; k <= o.dims; ++k) header.push_back(std::string("pca_").append(std::to_string(k)));
  for (int k = 1; k <= o.dims; ++k) header.push_back(std::string("tsne_").append(std::to_string(k)));
  CsvWriter embedding_csv(header);
  const std::vector<float> pv = pca_cpu.to_vector<float>(), tv = tsne_result.embedding.to_vector<float>();
  for (int64_t i = 0; i < n; ++i) {
    std::vector<CsvCell> row = {i, static_cast<int64_t>(labels[i]), class_name(ctx, labels[i])};
    for (int k = 0; k < o.dims; ++k) row.push_back(static_cast<double>(pv[o.dims * i + k]));
    for (int k = 0; k < o.dims; ++k) row.push_back(static_cast<double>(tv[o.dims * i + k]));
    embedding_csv.add_row(row);
  }
  embedding_csv.save(file("embeddings.csv"));
  {
    // What scripts/compare_tsne_sklearn.py needs to rerun this t-SNE elsewhere.
    nlohmann::json meta = {{"features", variant + "_features.npy"}, {"labels", variant + "_labels.npy"},
                           {"embedding", variant + "_tsne.npy"}, {"points", n}, {"split", o.split},
                           {"layer", features.layer}, {"dims", o.dims}, {"perplexity", t.perplexity},
                           {"iterations", t.iterations}, {"method", tsne_result.method},
                           {"pca_dims", t.pca_dims}, {"kl_divergence", tsne_result.kl_divergence},
                           {"seconds", tsne_result.seconds}};
    write_file_atomic(file("tsne.json"), meta.dump(2) + "\n");
  }
  scatter.text = {"t-SNE of the features (perplexity " + fixed(t.perplexity, 0) + ", KL " +
                      fixed(tsne_result.kl_divergence, 3) + ")",
                  "", ""};
  save_svg(file("tsne.svg"), scatter_plot(first_two(tsne_result.embedding), labels, scatter));
  thumbnail_map(split, tsne_result.embedding, n, 1600).save_png(file("tsne_thumbnails.png"));
  write_projector(ctx, split, file("projector"), features.features, features.labels, std::min<int64_t>(n, 10000));

  Section section;
  section.heading = "Feature space (" + std::to_string(n) + " " + o.split + " images, " + std::to_string(o.dims) + "-D)";
  section.text = "The " + std::to_string(n) + " first " + o.split + " images as " + std::to_string(features.features.dim(1)) +
                 "-dimensional feature vectors (the output of layer " + features.layer +
                 ", the input of the classifier's last layer), compared with the same images as raw pixels.";
  section.tables.push_back({{"space", "neighbours of the same class", std::to_string(k) + "-NN accuracy"},
                            {{"pixels", fixed(100 * pa.neighbour_agreement, 1) + "%", fixed(100 * pa.knn_accuracy, 1) + "%"},
                             {"features", fixed(100 * fa.neighbour_agreement, 1) + "%", fixed(100 * fa.knn_accuracy, 1) + "%"}}});
  section.figures.push_back({rel("neighbours.png"),
                             "Nearest neighbours (" + o.metric + ") of a few queries: in pixel space neighbours share "
                             "brightness and outline; in feature space they share the class.",
                             0, {rel("knn_accuracy.csv")}});
  section.figures.push_back({rel("pca.svg"),
                             "The two directions of largest variance of the features: a linear view, classes overlap.",
                             0, {rel("pca.npy")}});
  section.figures.push_back({rel("tsne.svg"),
                             "t-SNE (" + tsne_result.method + ", " + std::to_string(t.iterations) +
                                 " iterations): points close in feature space stay close; the classes form clusters.",
                             0, {rel("tsne.npy"), rel("embeddings.csv")}});
  section.figures.push_back({rel("tsne_thumbnails.png"),
                             "The same t-SNE map drawn with the images themselves (framed in their class colour).",
                             800, {rel("projector/projector_config.pbtxt")}});
  section.figures.back().data_files.push_back(rel("features.csv"));
  section.figures.back().data_files.push_back(rel("tsne.json"));
  save_section(ctx, name, variant, 40, section);
}

}  // namespace cs::viz
