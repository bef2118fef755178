// Inside the network: filters, feature maps, top-k patches with deconvnet
// (or guided) projections, layer by layer.
#include <algorithm>
#include <cstdio>

#include "runtime/npy.h"
#include "viz/colormap.h"
#include "viz/csv.h"
#include "viz/feature_maps.h"
#include "viz/figures.h"
#include "viz/filters.h"
#include "viz/grid.h"
#include "viz/top_patches.h"

namespace cs::viz {

namespace {

// The activation each conv layer's units are read at: the ReLU after it
// (through batch norm), or the conv itself when no ReLU follows.
std::vector<std::string> unit_layers(nn::Module& net) {
  std::vector<std::string> out;
  const auto leaves = net.leaves();
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].second->type() != "Conv2d") continue;
    std::string chosen = leaves[i].first;
    for (size_t j = i + 1; j < leaves.size() && leaves[j].second->type() != "Conv2d"; ++j)
      if (leaves[j].second->type() == "ReLU") {
        chosen = leaves[j].first;
        break;
      }
    out.push_back(chosen);
  }
  return out;
}

// A readable tile size for an s-pixel picture: at least ~48 px.
int scale_for(int64_t size) { return static_cast<int>(std::max<int64_t>(1, (48 + size - 1) / size)); }

// Where `layer` sits among the network's leaves: sections of deeper layers come later.
int layer_depth(nn::Module& net, const std::string& layer) {
  const auto leaves = net.leaves();
  for (size_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].first == layer) return static_cast<int>(i);
  return static_cast<int>(leaves.size());
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string file_name(const std::string& layer) {
  std::string s = layer;
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

}  // namespace

void filters_figure(VizContext& ctx, const FiltersFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const std::string layer = o.layer.empty() ? first_conv_layer(net) : o.layer;
  CS_CHECK(o.max_filters > 0 && o.max_channels > 0,
           "filters: the numbers of filters and channels shown must be positive");
  const Tensor w = conv_filters(net, layer);  // (K, C, R, S)
  const int64_t k = w.dim(0), c = w.dim(1), r = w.dim(2), s = w.dim(3);
  const std::string name = "filters";
  const std::string dir = output_dir(ctx, name), base = file_name(layer);
  save_npy(dir + "/" + base + ".npy", w);
  Image picture;
  std::string caption;
  if (c == 1 || c == 3) {
    // Each filter an image of its own: colour for RGB inputs, gray for one channel.
    TileOptions t;
    t.scale = scale_for(std::max(r, s));
    t.border = 1;
    GridOptions g;
    g.cols = static_cast<int>(std::min<int64_t>(k, 16));
    g.title = layer + ": " + std::to_string(k) + " filters of " + std::to_string(r) + "x" + std::to_string(s);
    picture = tensor_grid(w, t, g);
    caption = "Every filter of " + layer + " as a picture (" + std::string(c == 3 ? "RGB" : "gray") +
              ", each scaled to its own range, enlarged " + std::to_string(t.scale) +
              "x). First layers learn edges, stripes and colour blobs: the building blocks of everything above.";
  } else {
    // Deeper layers: one row per filter, one tile per input channel (the first few of each).
    const int64_t rows = std::min<int64_t>(k, o.max_filters), cols = std::min<int64_t>(c, o.max_channels);
    std::vector<float> all = w.to_vector<float>(), tiles;
    for (int64_t f = 0; f < rows; ++f)
      for (int64_t ch = 0; ch < cols; ++ch)
        tiles.insert(tiles.end(), all.begin() + (f * c + ch) * r * s, all.begin() + (f * c + ch + 1) * r * s);
    TileOptions t;
    t.scale = scale_for(std::max(r, s));
    t.norm = Normalization::symmetric();
    t.scope = NormScope::Shared;
    t.colormap = &colormap("bwr");
    GridOptions g;
    g.cols = static_cast<int>(cols);
    g.spacing = 1;
    g.title = layer + ": filters (rows) x input channels (columns)";
    picture = tensor_grid(Tensor::from_vector(tiles, {rows * cols, 1, r, s}), t, g);
    caption = "The weights of the first " + std::to_string(rows) + " of " + std::to_string(k) + " filters of " +
              layer + ", one tile per input channel (the first " + std::to_string(cols) + " of " +
              std::to_string(c) + "), on one shared scale: blue negative, red positive, white zero. A deeper filter "
              "combines the maps of the layer below, so its weights read as a recipe, not a picture.";
  }
  picture.save_png(dir + "/" + base + ".png");
  Section section;
  section.heading = "Filters of " + layer;
  section.figures.push_back({relative_path(name, base + ".png"), caption, 0, {relative_path(name, base + ".npy")}});
  save_section(ctx, name, layer, 20, section, layer_depth(net, layer));
}

void feature_maps_figure(VizContext& ctx, const FeatureMapsFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const std::vector<std::string> layers = o.layers.empty() ? unit_layers(net) : o.layers;
  const InputImages in = o.image_file.empty() ? input_images(ctx, {o.image}, {}) : input_images(ctx, {}, {o.image_file});
  const Tensor& input = in.batch;  // (1, C, H, W)
  const Image input_tile = input_picture(ctx, input);
  const std::string name = "feature_maps";
  const std::string dir = output_dir(ctx, name);
  // Files are named by image, scale and layer; the section by image, scale and layer set.
  const std::string prefix = in.keys[0] + (o.shared_scale ? "_shared" : "");
  const std::string variant = prefix + (o.layers.empty() ? "" : "_" + join(layers, "+"));
  Section section;
  section.heading = "Feature maps of " + in.names[0] + (o.shared_scale ? " (shared scale)" : "");
  const std::string what = in.labels[0] >= 0 ? " (a " + class_name(ctx, in.labels[0]) + ")" : "";
  section.text = "What each layer computes for " + in.names[0] + what + ": every channel of the layer's output.";
  for (const std::string& layer : layers) {
    const Tensor maps = feature_maps(net, input, layer);  // (C, h, w)
    CS_CHECK(maps.ndim() == 3, "feature maps need a spatial layer; '" << layer << "' gives " << shape_str(maps.shape()));
    const int64_t c = maps.dim(0), h = maps.dim(1), w = maps.dim(2);
    const std::string base = prefix + "_" + file_name(layer);
    save_npy(dir + "/" + base + ".npy", maps);
    TileOptions t;
    t.scale = scale_for(std::max(h, w));
    t.colormap = &colormap("viridis");
    t.scope = o.shared_scale ? NormScope::Shared : NormScope::PerTile;
    std::vector<Image> tiles = tensor_tiles(maps.reshape({c, 1, h, w}), t);
    const int in_scale = std::max(1, static_cast<int>(h * t.scale / input_tile.height()));
    tiles.insert(tiles.begin(), enlarge(input_tile, in_scale));
    GridOptions g;
    g.cols = static_cast<int>(std::min<int64_t>(c + 1, 17));
    g.title = layer + ": " + std::to_string(c) + " maps of " + std::to_string(h) + "x" + std::to_string(w);
    g.captions.assign(tiles.size(), "");
    g.captions[0] = "input";
    make_grid(tiles, g).save_png(dir + "/" + base + ".png");
    const std::string scale_text =
        o.shared_scale ? ", all on one scale (viridis: dark low, yellow high), so weak channels look dark. "
                       : ", each scaled to its own range (viridis: dark low, yellow high). ";
    section.figures.push_back({relative_path(name, base + ".png"),
                               "The input (first tile) and the " + std::to_string(c) + " channels of " + layer +
                                   scale_text +
                                   "Early maps still look like the image; deeper ones are coarser and respond to parts.",
                               0, {relative_path(name, base + ".npy")}});
  }
  save_section(ctx, name, variant, 21, section);
}

void top_patches_figure(VizContext& ctx, const TopPatchesFigureOptions& o) {
  nn::Module& net = *ctx.model->net;
  const std::vector<std::string> layers = o.layers.empty() ? unit_layers(net) : o.layers;
  const std::string name = "top_patches";
  const std::string dir = output_dir(ctx, name);
  const bool deconv = o.rule == ag::ReluRule::Deconvnet;
  // Deconvnet and guided projections, and other k, are different pictures.
  const std::string prefix = std::string(deconv ? "deconvnet" : "guided") + "_k" + std::to_string(o.k);
  const std::string variant = prefix + (o.layers.empty() ? "" : "_" + join(layers, "+"));
  Section section;
  section.heading = "Top-" + std::to_string(o.k) + " patches and " + (deconv ? "deconvnet" : "guided") + " projections";
  section.text =
      "For the most active units of each layer: the " + std::to_string(o.k) +
      " test images that excite the unit most, cropped to the unit's receptive field (right), and the "
      "projection of that single activation back to pixels (left, " +
      (deconv ? "deconvnet: unpooling through the max-pool switches, rectification, transposed filters"
              : "guided backpropagation") +
      "), as in Zeiler & Fergus (2013). Units of early layers respond to edges and textures, deeper "
      "units to larger parts of objects.";
  ScanOptions scan;
  scan.k = o.k;
  scan.max_images = o.max_images;
  for (const std::string& layer : layers) {
    const TopActivations top = scan_top_activations(net, ctx.data->test, *ctx.data, ctx.model->input_shape, layer, scan);
    // The units whose best activation is highest.
    std::vector<int64_t> channels(top.units.size());
    for (size_t c = 0; c < channels.size(); ++c) channels[c] = static_cast<int64_t>(c);
    std::stable_sort(channels.begin(), channels.end(), [&](int64_t a, int64_t b) {
      const float va = top.units[a].empty() ? 0 : top.units[a][0].value;
      const float vb = top.units[b].empty() ? 0 : top.units[b][0].value;
      return va > vb;
    });
    channels.resize(std::min<size_t>(channels.size(), static_cast<size_t>(o.units)));
    const std::vector<UnitPatches> patches =
        patches_and_projections(net, top, ctx.data->test, *ctx.data, ctx.model->input_shape, channels, o.rule);
    const std::string base = prefix + "_" + file_name(layer);
    CsvWriter csv({"channel", "rank", "test_image", "p", "q", "activation"});
    std::vector<Image> tiles;
    std::vector<std::string> row_labels;
    const int tile = 48;
    const int64_t rf = std::max(top.rf.size_h, top.rf.size_w);
    const int scale = std::max(1, static_cast<int>((tile + rf - 1) / rf));
    for (size_t u = 0; u < channels.size(); ++u) {
      row_labels.push_back("unit " + std::to_string(channels[u]));
      const auto& units = top.units[static_cast<size_t>(channels[u])];
      std::vector<Image> projections, crops;
      for (size_t r = 0; r < patches[u].patches.size(); ++r) {
        csv.add_row({channels[u], static_cast<int64_t>(r), units[r].image, units[r].p, units[r].q,
                     static_cast<double>(units[r].value)});
        projections.push_back(enlarge(to_image(patches[u].projections[r], Normalization::symmetric()), scale));
        // The crop, denormalised (outside the image: the dataset mean).
        crops.push_back(enlarge(input_picture(ctx, patches[u].patches[r]), scale));
      }
      while (static_cast<int>(projections.size()) < o.k) {  // a unit active in fewer than k images
        projections.emplace_back(static_cast<int>(rf * scale), static_cast<int>(rf * scale), Color{200, 200, 200});
        crops.emplace_back(static_cast<int>(rf * scale), static_cast<int>(rf * scale), Color{200, 200, 200});
      }
      tiles.insert(tiles.end(), projections.begin(), projections.end());
      tiles.insert(tiles.end(), crops.begin(), crops.end());
    }
    csv.save(dir + "/" + base + ".csv");
    GridOptions g;
    g.cols = 2 * o.k;
    g.spacing = 2;
    g.row_labels = row_labels;
    g.title = layer + ": receptive field " + std::to_string(top.rf.size_h) + "x" + std::to_string(top.rf.size_w) +
              " px; projections (left) and patches (right)";
    make_grid(tiles, g).save_png(dir + "/" + base + ".png");
    section.figures.push_back({relative_path(name, base + ".png"),
                               layer + ": each row is one unit; left, the " + std::to_string(o.k) +
                                   " projections (gray: zero; light and dark: the pixels that drove the unit); "
                                   "right, the matching image patches.",
                               0, {relative_path(name, base + ".csv")}});
  }
  save_section(ctx, name, variant, 22, section, deconv ? 0 : 1);
}

}  // namespace cs::viz
