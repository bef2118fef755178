// Image grids: tiles in rows x columns with spacing, optional title, row
// labels (left), column labels (top) and per-tile captions (under each tile).
// Tiles of different sizes sit centred in equal cells.
//
// Layout, in pixels (all of it is in GridLayout, so callers can draw on top):
//
//   margin
//   title (centred over the whole grid)              + spacing
//   column labels (centred over each column)         + spacing
//   [row label + spacing] cell  spacing  cell ...
//                         spacing
//                         cell  spacing  cell ...
//   margin
//
// A cell is (widest tile) x (tallest tile + caption height); a tile is centred
// horizontally in its cell and vertically in the cell's picture area, with its
// caption centred under that area.
#pragma once

#include <string>
#include <vector>

#include "viz/image.h"

namespace cs::viz {

struct GridOptions {
  // 0: derived. Both 0: cols = ceil(sqrt(n)), rows = ceil(n / cols).
  int rows = 0, cols = 0;
  int spacing = 2;   // between cells, and between labels and cells
  int margin = -1;   // around everything; -1: the spacing
  Color background = kWhite;
  std::string title;
  std::vector<std::string> row_labels;  // empty, or one per row
  std::vector<std::string> col_labels;  // empty, or one per column
  std::vector<std::string> captions;    // empty, or one per tile (may be "")
  TextStyle text{1, kBlack, false, kWhite, 1};  // labels: no box, 1 px padding
};

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const Rect&) const = default;
};

struct GridLayout {
  int width = 0, height = 0;  // of the whole picture
  int rows = 0, cols = 0;
  int cell_width = 0, cell_height = 0;  // picture area of a cell (without caption)
  int caption_height = 0;
  std::vector<Rect> cells;  // per tile: its cell's picture area
  std::vector<Rect> tiles;  // per tile: where the tile is drawn
};

// The geometry for tiles of these sizes (width, height); throws on no tiles,
// more tiles than rows x cols, or label counts that do not match.
GridLayout grid_layout(const std::vector<TextSize>& tile_sizes, const GridOptions& options = {});

// Draws the grid. An empty (0 x 0) tile leaves its cell blank.
Image make_grid(const std::vector<Image>& tiles, const GridOptions& options = {});

// ---- tensors as tiles -----------------------------------------------------

enum class NormScope { PerTile, Shared };

struct TileOptions {
  Normalization norm = Normalization::min_max();
  NormScope scope = NormScope::PerTile;  // Shared: one range over the whole batch
  int scale = 1;                         // nearest-neighbour enlargement of every tile
  const Colormap* colormap = nullptr;    // single-channel tiles through a map; nullptr: gray
  int border = 0;                        // frame around every tile
  Color border_color{128, 128, 128};
};

// batch: (N, C, H, W) with C = 1 or 3, or (N, H, W); any dtype and device.
// Filters of a deeper layer (K, C, R, S) go in as reshape({K * C, 1, R, S}).
std::vector<Image> tensor_tiles(const Tensor& batch, const TileOptions& options = {});
Image tensor_grid(const Tensor& batch, const TileOptions& tile_options = {},
                  const GridOptions& grid_options = {});

}  // namespace cs::viz
