// Net specs: parsing, errors with line numbers, the built-in models.
#include "models/netspec.h"
#include "models/summary.h"
#include "tests/common/test_util.h"

namespace cs {
namespace {

using models::build_model;
using models::parse_net_spec;

std::string error_of(const std::string& text) {
  try {
    models::NetSpec spec = parse_net_spec(text, "test.spec");
    build_model(spec, 1);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(NetSpec, ParsesBlocksLayersParamsAndTrainSettings) {
  const std::string text = R"(# a comment
model tiny
param classes = 3
param width=4
input 1 8 8
train lr=0.1 epochs=2
[features]
conv ${width} 3 padding=1   # trailing comment
relu
maxpool 2
layer flatten: flatten
[classifier]
linear ${classes}
)";
  models::NetSpec spec = parse_net_spec(text, "tiny.spec");
  EXPECT_EQ(spec.name, "tiny");
  EXPECT_EQ(spec.params.at("width"), "4");
  EXPECT_EQ(spec.train.at("lr"), "0.1");
  ASSERT_EQ(spec.entries.size(), 3u);
  EXPECT_EQ(spec.entries[0].layers.size(), 3u);
  const std::vector<std::string> unused = models::apply_overrides(spec, {{"width", "6"}, {"lr", "1"}});
  EXPECT_EQ(unused, std::vector<std::string>{"lr"});
  models::Model m = build_model(spec, 1);
  EXPECT_EQ(m.classes, 3);
  EXPECT_EQ(m.net->find("features.0")->describe(), "Conv2d(1, 6, kernel=3x3, padding=1x1)");
  EXPECT_EQ(m.net->find("classifier.0")->describe(), "Linear(96, 3)");
}

TEST(NetSpec, ErrorsNameTheLineAndTheProblem) {
  EXPECT_NE(error_of("input 1 8 8\n[f]\nconv 4 3 kernal=3\n").find("test.spec:3: conv: unknown option 'kernal'"),
            std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\n[f]\nconv 4 3\nlinear 10\n").find("test.spec:4: linear needs an (N, features) input, got [1, 4, 6, 6]"),
            std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\n[f]\nconv ${w} 3\n").find("test.spec:3: unknown param ${w}"),
            std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\nrelu\n").find("test.spec:2: layer 'relu' outside a [block]"),
            std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\n[f]\nwobble\n").find("unknown layer type 'wobble'"), std::string::npos);
  EXPECT_NE(error_of("input 1 4 4\n[f]\nconv 2 5\n").find("test.spec:3: conv:"), std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\n[f]\nconv 4 3\n").find("must end with (N, classes)"), std::string::npos);
  EXPECT_NE(error_of("[f]\nrelu\n").find("no `input"), std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\n[f]\nconv 4 x3\n").find("kernel must be"), std::string::npos);
  EXPECT_NE(error_of("input 1 8 8\n[f]\n[f]\nrelu\n").find("already exists"), std::string::npos);
}

TEST(NetSpec, BuiltinModelsBuildWithTheirParameterCounts) {
  const std::vector<std::string> names = models::builtin_model_names();
  for (const char* expected : {"fashion-cnn", "alexnet", "alexnet-2012", "zfnet"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  models::Model alexnet = build_model(models::load_net_spec("alexnet"), 1);
  EXPECT_EQ(alexnet.net->parameter_count(), 61100840);
  EXPECT_EQ(alexnet.net->find("classifier.6")->describe(), "Linear(4096, 1000)");
  EXPECT_NE(alexnet.net->find("avgpool"), nullptr);
  models::Model fashion = build_model(models::load_net_spec("fashion-cnn"), 1);
  EXPECT_EQ(fashion.classes, 10);
  EXPECT_EQ(fashion.input_shape, (Shape{1, 28, 28}));
  EXPECT_THROW(models::load_net_spec("no-such-model"), Error);
}

TEST(NetSpec, ZfnetHasThePaperSizes) {
  models::Model zf = build_model(models::load_net_spec("zfnet"), 1);
  models::ModelSummary s = models::summarize(zf);
  std::map<std::string, Shape> out;
  for (const auto& row : s.rows) out[row.path] = row.output;
  EXPECT_EQ(out["features.0"], (Shape{1, 96, 110, 110}));
  EXPECT_EQ(out["features.2"], (Shape{1, 96, 55, 55}));
  EXPECT_EQ(out["features.4"], (Shape{1, 256, 26, 26}));
  EXPECT_EQ(out["features.6"], (Shape{1, 256, 13, 13}));
  EXPECT_EQ(out["features.14"], (Shape{1, 256, 6, 6}));
}

TEST(NetSpec, SummaryCountsFlops) {
  models::Model m = build_model(parse_net_spec("input 1 4 4\n[f]\nconv 2 3 padding=1\nlayer fl: flatten\n[c]\nlinear 5\n", "s"), 1);
  models::ModelSummary s = models::summarize(m);
  ASSERT_EQ(s.rows.size(), 3u);
  EXPECT_EQ(s.rows[0].flops, 2 * 16 * 2 * 9);
  EXPECT_EQ(s.rows[2].flops, 2 * 32 * 5);
  EXPECT_EQ(s.total_parameters, 2 * 9 + 2 + 32 * 5 + 5);
  EXPECT_NE(models::format_summary(s, "s").find("Linear(32, 5)"), std::string::npos);
}

}  // namespace
}  // namespace cs
