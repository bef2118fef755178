#include "viz/grid.h"

#include <algorithm>
#include <cmath>

#include "runtime/error.h"

namespace cs::viz {

namespace {

int max_text_height(const std::vector<std::string>& texts, const TextStyle& style) {
  int h = 0;
  for (const auto& t : texts) h = std::max(h, text_size(t, style).height);
  return h;
}

int max_text_width(const std::vector<std::string>& texts, const TextStyle& style) {
  int w = 0;
  for (const auto& t : texts) w = std::max(w, text_size(t, style).width);
  return w;
}

}  // namespace

GridLayout grid_layout(const std::vector<TextSize>& tile_sizes, const GridOptions& options) {
  const int n = static_cast<int>(tile_sizes.size());
  CS_CHECK(n > 0, "image grid: no tiles to lay out");
  CS_CHECK(options.rows >= 0 && options.cols >= 0 && options.spacing >= 0,
           "image grid: rows, cols and spacing must be >= 0, got " << options.rows << ", "
                                                                   << options.cols << ", "
                                                                   << options.spacing);
  GridLayout g;
  g.rows = options.rows;
  g.cols = options.cols;
  if (g.rows == 0 && g.cols == 0) g.cols = static_cast<int>(std::ceil(std::sqrt(n)));
  if (g.cols == 0) g.cols = (n + g.rows - 1) / g.rows;
  if (g.rows == 0) g.rows = (n + g.cols - 1) / g.cols;
  CS_CHECK(static_cast<int64_t>(g.rows) * g.cols >= n,
           "image grid: " << n << " tiles do not fit in " << g.rows << " rows x " << g.cols
                          << " columns");
  CS_CHECK(options.row_labels.empty() || static_cast<int>(options.row_labels.size()) == g.rows,
           "image grid: " << options.row_labels.size() << " row labels for " << g.rows
                          << " rows");
  CS_CHECK(options.col_labels.empty() || static_cast<int>(options.col_labels.size()) == g.cols,
           "image grid: " << options.col_labels.size() << " column labels for " << g.cols
                          << " columns");
  CS_CHECK(options.captions.empty() || static_cast<int>(options.captions.size()) == n,
           "image grid: " << options.captions.size() << " captions for " << n << " tiles");

  for (const TextSize& s : tile_sizes) {
    CS_CHECK(s.width >= 0 && s.height >= 0, "image grid: negative tile size");
    g.cell_width = std::max(g.cell_width, s.width);
    g.cell_height = std::max(g.cell_height, s.height);
  }
  const int sp = options.spacing;
  const int margin = options.margin < 0 ? sp : options.margin;
  const TextStyle& ts = options.text;
  g.caption_height = max_text_height(options.captions, ts);
  // Captions are as wide as they need: widen the cells rather than clip them.
  g.cell_width = std::max(g.cell_width, max_text_width(options.captions, ts));
  g.cell_width = std::max(g.cell_width, max_text_width(options.col_labels, ts));
  CS_CHECK(g.cell_width > 0 && g.cell_height > 0, "image grid: every tile is empty");

  const int row_label_width = max_text_width(options.row_labels, ts);
  const int title_height = text_size(options.title, ts).height;
  const int col_label_height = max_text_height(options.col_labels, ts);
  const int full_cell_height = g.cell_height + g.caption_height;

  const int x0 = margin + (row_label_width > 0 ? row_label_width + sp : 0);
  const int y0 = margin + (title_height > 0 ? title_height + sp : 0) +
                 (col_label_height > 0 ? col_label_height + sp : 0);
  const int64_t width = x0 + int64_t{g.cols} * g.cell_width + int64_t{g.cols - 1} * sp + margin;
  const int64_t height =
      y0 + int64_t{g.rows} * full_cell_height + int64_t{g.rows - 1} * sp + margin;
  const int title_width = text_size(options.title, ts).width;
  g.width = static_cast<int>(std::max<int64_t>(width, title_width + 2 * margin));
  g.height = static_cast<int>(height);
  CS_CHECK(g.width <= (1 << 16) && g.height <= (1 << 16),
           "image grid: the picture would be " << g.width << "x" << g.height
                                               << " pixels; use fewer or smaller tiles");

  for (int i = 0; i < n; ++i) {
    const int r = i / g.cols, c = i % g.cols;
    const Rect cell{x0 + c * (g.cell_width + sp), y0 + r * (full_cell_height + sp), g.cell_width,
                    g.cell_height};
    g.cells.push_back(cell);
    const TextSize s = tile_sizes[static_cast<size_t>(i)];
    g.tiles.push_back({cell.x + (cell.width - s.width) / 2, cell.y + (cell.height - s.height) / 2,
                       s.width, s.height});
  }
  return g;
}

Image make_grid(const std::vector<Image>& tiles, const GridOptions& options) {
  CS_CHECK(!tiles.empty(), "image grid: no tiles to draw");
  std::vector<TextSize> sizes;
  sizes.reserve(tiles.size());
  for (const Image& t : tiles) sizes.push_back({t.width(), t.height()});
  const GridLayout g = grid_layout(sizes, options);
  Image out(g.width, g.height, options.background);
  const TextStyle& ts = options.text;
  const int sp = options.spacing;
  const int margin = options.margin < 0 ? sp : options.margin;

  for (size_t i = 0; i < tiles.size(); ++i) {
    const Rect& r = g.tiles[i];
    if (!tiles[i].empty()) paste(out, tiles[i], r.x, r.y);
    if (!options.captions.empty()) {
      const std::string& cap = options.captions[i];
      const Rect& cell = g.cells[i];
      const TextSize s = text_size(cap, ts);
      draw_text(out, cell.x + (cell.width - s.width) / 2, cell.y + cell.height, cap, ts);
    }
  }
  if (!options.title.empty()) {
    const TextSize s = text_size(options.title, ts);
    draw_text(out, (g.width - s.width) / 2, margin, options.title, ts);
  }
  if (!options.col_labels.empty()) {
    const int label_h = max_text_height(options.col_labels, ts);
    const int first_cell_y = g.cells.front().y;
    for (int c = 0; c < g.cols; ++c) {
      const std::string& label = options.col_labels[static_cast<size_t>(c)];
      const TextSize s = text_size(label, ts);
      const int cell_x = g.cells.front().x + c * (g.cell_width + sp);
      // Bottom-aligned just above the first row.
      draw_text(out, cell_x + (g.cell_width - s.width) / 2, first_cell_y - sp - label_h +
                (label_h - s.height), label, ts);
    }
  }
  if (!options.row_labels.empty()) {
    const int label_w = max_text_width(options.row_labels, ts);
    for (int r = 0; r < g.rows; ++r) {
      const std::string& label = options.row_labels[static_cast<size_t>(r)];
      const TextSize s = text_size(label, ts);
      const int cell_y = g.cells.front().y + r * (g.cell_height + g.caption_height + sp);
      // Right-aligned against the cells, centred on the picture area.
      draw_text(out, margin + label_w - s.width, cell_y + (g.cell_height - s.height) / 2, label,
                ts);
    }
  }
  return out;
}

std::vector<Image> tensor_tiles(const Tensor& batch, const TileOptions& options) {
  CS_CHECK(batch.defined(), "tensor tiles: the tensor is undefined");
  const Shape& s = batch.shape();
  CS_CHECK((s.size() == 4 && (s[1] == 1 || s[1] == 3)) || s.size() == 3,
           "tensor tiles: expected (N, C, H, W) with C = 1 or 3, or (N, H, W), got "
               << shape_str(s));
  CS_CHECK(s[0] > 0, "tensor tiles: the batch is empty " << shape_str(s));
  CS_CHECK(options.scale >= 1, "tensor tiles: scale must be >= 1, got " << options.scale);
  const int64_t n = s[0];
  const Tensor host = batch.to(Device::cpu());
  const bool single = s.size() == 3 || s[1] == 1;
  CS_CHECK(!options.colormap || single,
           "tensor tiles: a colormap needs single-channel tiles, got " << shape_str(s));

  Normalization norm = options.norm;
  if (options.scope == NormScope::Shared && norm.mode != NormMode::Fixed) {
    // One range for all tiles: find it once, then draw every tile with it fixed.
    const ValueRange r = value_range(host.to_double_vector(), norm);
    norm = r.high > r.low ? Normalization::fixed(r.low, r.high) : norm;
  }
  std::vector<Image> tiles;
  tiles.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const Tensor t = host.narrow(i, 1);
    Image tile = options.colormap ? colorize(t.reshape({s[s.size() - 2], s[s.size() - 1]}),
                                             *options.colormap, norm)
                                  : to_image(t, norm);
    if (options.scale > 1) tile = enlarge(tile, options.scale);
    if (options.border > 0) tile = add_border(tile, options.border, options.border_color);
    tiles.push_back(std::move(tile));
  }
  return tiles;
}

Image tensor_grid(const Tensor& batch, const TileOptions& tile_options,
                  const GridOptions& grid_options) {
  return make_grid(tensor_tiles(batch, tile_options), grid_options);
}

}  // namespace cs::viz
