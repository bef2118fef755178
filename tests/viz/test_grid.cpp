// Image grids: exact geometry, centring of unequal tiles, labels and
// captions, tensors as tiles with per-tile or shared normalisation.
#include "tests/common/test_util.h"
#include "tests/viz/render_test_util.h"
#include "viz/grid.h"

namespace cs {
namespace {

using viz::Color;
using viz::Image;

Color tile_color(int i) { return {static_cast<uint8_t>(20 * i + 10), 0, static_cast<uint8_t>(200 - 20 * i)}; }

std::vector<Image> solid_tiles(int n, int w, int h) {
  std::vector<Image> tiles;
  for (int i = 0; i < n; ++i) tiles.emplace_back(w, h, tile_color(i));
  return tiles;
}

TEST(Grid, TilesLandAtExactPositions) {
  viz::GridOptions opt;
  opt.cols = 3;
  opt.spacing = 2;
  opt.margin = 2;
  const Image g = viz::make_grid(solid_tiles(5, 10, 8), opt);
  // 2 rows: 2 + 3*10 + 2*2 + 2 = 38 wide, 2 + 2*8 + 2 + 2 = 22 tall.
  EXPECT_EQ(g.width(), 38);
  EXPECT_EQ(g.height(), 22);
  for (int i = 0; i < 5; ++i) {
    const int x = 2 + (i % 3) * 12, y = 2 + (i / 3) * 10;
    EXPECT_EQ(g.at(x, y), tile_color(i)) << i;
    EXPECT_EQ(g.at(x + 9, y + 7), tile_color(i)) << i;
    EXPECT_EQ(g.at(x + 10, y), viz::kWhite) << i;  // the spacing after the tile
    EXPECT_EQ(g.at(x, y + 8), viz::kWhite) << i;
  }
  EXPECT_EQ(g.at(1, 1), viz::kWhite);    // margin
  EXPECT_EQ(g.at(30, 15), viz::kWhite);  // the sixth, empty cell
}

TEST(Grid, LayoutDefaultsAndUnequalTilesAreCentred) {
  viz::GridLayout l = viz::grid_layout({{4, 4}, {4, 4}, {4, 4}, {4, 4}, {4, 4}});
  EXPECT_EQ(l.cols, 3);
  EXPECT_EQ(l.rows, 2);
  EXPECT_EQ(viz::grid_layout({{1, 1}, {1, 1}, {1, 1}, {1, 1}}).cols, 2);
  viz::GridOptions rows_only;
  rows_only.rows = 1;
  EXPECT_EQ(viz::grid_layout({{1, 1}, {1, 1}, {1, 1}}, rows_only).cols, 3);

  viz::GridOptions opt;
  opt.spacing = 3;
  opt.margin = 0;
  opt.background = Color{1, 2, 3};
  std::vector<Image> tiles = {Image(10, 8, tile_color(0)), Image(4, 4, tile_color(1))};
  opt.cols = 2;
  l = viz::grid_layout({{10, 8}, {4, 4}}, opt);
  EXPECT_EQ(l.cell_width, 10);
  EXPECT_EQ(l.cell_height, 8);
  EXPECT_EQ(l.tiles[1], (viz::Rect{13 + 3, 2, 4, 4}));
  const Image g = viz::make_grid(tiles, opt);
  EXPECT_EQ(g.width(), 23);
  EXPECT_EQ(g.height(), 8);
  EXPECT_EQ(g.at(16, 2), tile_color(1));
  EXPECT_EQ(g.at(19, 5), tile_color(1));
  EXPECT_EQ(g.at(15, 2), (Color{1, 2, 3}));
  EXPECT_EQ(g.at(16, 1), (Color{1, 2, 3}));
  // An empty tile leaves its cell blank.
  tiles[0] = Image();
  EXPECT_EQ(viz::make_grid(tiles, opt).at(0, 0), (Color{1, 2, 3}));
}

TEST(Grid, LabelsAndCaptionsShiftTheCellsAndDrawText) {
  viz::GridOptions opt;
  opt.cols = 2;
  opt.spacing = 4;
  opt.title = "Filters";
  opt.row_labels = {"conv1", "conv2"};
  opt.col_labels = {"a", "b"};
  opt.captions = {"9", "7", "1", "x"};
  const std::vector<Image> tiles = solid_tiles(4, 20, 20);
  std::vector<viz::TextSize> sizes(4, {20, 20});
  const viz::GridLayout l = viz::grid_layout(sizes, opt);
  const int label_w = viz::text_size("conv1", opt.text).width;
  const int line_h = viz::text_size("a", opt.text).height;
  EXPECT_EQ(l.tiles[0].x, 4 + label_w + 4);
  EXPECT_EQ(l.tiles[0].y, 4 + line_h + 4 + line_h + 4);
  EXPECT_EQ(l.caption_height, line_h);
  EXPECT_EQ(l.tiles[2].y - l.tiles[0].y, 20 + line_h + 4);  // picture + caption + spacing
  EXPECT_EQ(l.tiles[1].x - l.tiles[0].x, 24);

  const Image g = viz::make_grid(tiles, opt);
  EXPECT_EQ(g.width(), l.width);
  EXPECT_EQ(g.height(), l.height);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(g.at(l.tiles[i].x + 5, l.tiles[i].y + 5), tile_color(i));
  auto ink_in = [&](int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += g.at(x, y) == viz::kBlack;
    return n;
  };
  EXPECT_GT(ink_in(0, l.tiles[0].y, l.tiles[0].x, l.tiles[0].y + 20), 10);      // row label
  EXPECT_GT(ink_in(l.tiles[0].x, l.tiles[0].y - line_h - 4, l.tiles[0].x + 20, l.tiles[0].y), 3);  // "a"
  EXPECT_GT(ink_in(l.tiles[0].x, l.tiles[0].y + 20, l.tiles[0].x + 20, l.tiles[0].y + 20 + line_h), 5);  // caption
  EXPECT_GT(ink_in(0, 0, g.width(), 4 + line_h), 10);                          // title
  testing::ScratchDir dir;
  viz::enlarge(g, 3).save_png(dir.file("labelled_grid.png"));
}

TEST(Grid, ClearErrors) {
  EXPECT_THROW(viz::make_grid({}), Error);
  EXPECT_THROW(viz::grid_layout({}), Error);
  viz::GridOptions opt;
  opt.rows = 1;
  opt.cols = 2;
  EXPECT_THROW(viz::make_grid(solid_tiles(3, 2, 2), opt), Error);
  opt.rows = 0;
  opt.row_labels = {"only one", "two", "three"};
  EXPECT_THROW(viz::make_grid(solid_tiles(4, 2, 2), opt), Error);
  opt.row_labels.clear();
  opt.captions = {"a"};
  EXPECT_THROW(viz::make_grid(solid_tiles(4, 2, 2), opt), Error);
  EXPECT_THROW(viz::make_grid({Image(), Image()}), Error);  // every tile empty
}

TEST(Grid, TensorTilesPerTileOrShared) {
  // Tile 0 holds 0..3, tile 1 holds 0..1.5 (half the range).
  const Tensor batch = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 0, 0.5f, 1, 1.5f}, {2, 1, 2, 2});
  viz::TileOptions per;
  std::vector<Image> tiles = viz::tensor_tiles(batch, per);
  ASSERT_EQ(tiles.size(), 2u);
  EXPECT_EQ(tiles[0].at(1, 1), viz::kWhite);
  EXPECT_EQ(tiles[1].at(1, 1), viz::kWhite);  // stretched on its own
  viz::TileOptions shared;
  shared.scope = viz::NormScope::Shared;
  tiles = viz::tensor_tiles(batch, shared);
  EXPECT_EQ(tiles[0].at(1, 1), viz::kWhite);
  EXPECT_EQ(tiles[1].at(1, 1), (Color{128, 128, 128}));  // 1.5 of 0..3

  viz::TileOptions big;
  big.scale = 3;
  big.border = 1;
  big.colormap = &viz::colormap("viridis");
  tiles = viz::tensor_tiles(batch.reshape({2, 2, 2}), big);
  EXPECT_EQ(tiles[0].width(), 8);
  EXPECT_EQ(tiles[0].at(1, 1), viz::colormap("viridis").low());
  EXPECT_EQ(tiles[0].at(0, 0), big.border_color);

  viz::GridOptions g;
  g.spacing = 1;
  g.margin = 0;
  const Image grid = viz::tensor_grid(batch, per, g);
  EXPECT_EQ(grid.width(), 2 + 1 + 2);
  EXPECT_EQ(grid.height(), 2);
}

TEST(Grid, TensorTilesRefuseBadShapes) {
  EXPECT_THROW(viz::tensor_tiles(Tensor::zeros({2, 2, 4, 4})), Error);
  EXPECT_THROW(viz::tensor_tiles(Tensor::zeros({0, 1, 4, 4})), Error);
  EXPECT_THROW(viz::tensor_tiles(Tensor::zeros({4, 4})), Error);
  viz::TileOptions cmap;
  cmap.colormap = &viz::colormap("gray");
  EXPECT_THROW(viz::tensor_tiles(Tensor::zeros({2, 3, 4, 4}), cmap), Error);
}

}  // namespace
}  // namespace cs
