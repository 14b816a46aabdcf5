// edgepack_model.cfg: the bundle's manifest flattened to `key value...` lines for apps without a JSON parser.
// Written by `edgepack template` (python/edgepack/templates/app_config.py); every key is checked here.
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "edgepack/app.h"

namespace edgepack::app {

namespace {

constexpr const char* kMagic = "edgepack-app-config";
constexpr int kVersion = 1;

struct Line {
  int number;
  std::string key;
  std::vector<std::string> words;
  std::string rest;  // everything after the key (labels keep their spaces)
};

[[noreturn]] void fail(const Line& l, const std::string& what) {
  throw AppError("edgepack_model.cfg line " + std::to_string(l.number) + " (" + l.key + "): " + what +
                 "; regenerate the project with edgepack template");
}

void want_words(const Line& l, size_t n) {
  if (l.words.size() != n) fail(l, "expected " + std::to_string(n) + " value(s), got " + std::to_string(l.words.size()));
}

double number(const Line& l, const std::string& s) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE) fail(l, "'" + s + "' is not a number");
  return v;
}

int integer(const Line& l, const std::string& s, int lo, int hi) {
  const double v = number(l, s);
  if (v != static_cast<double>(static_cast<long long>(v)) || v < lo || v > hi) {
    fail(l, "'" + s + "' is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(v);
}

bool flag(const Line& l, const std::string& s) {
  if (s != "0" && s != "1") fail(l, "'" + s + "' must be 0 or 1");
  return s == "1";
}

std::string one_of(const Line& l, const std::string& s, const std::set<std::string>& allowed) {
  if (!allowed.count(s)) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(l, "unknown value '" + s + "' (expected one of " + list + ")");
  }
  return s;
}

TensorSpec tensor(const Line& l) {
  want_words(l, 4);
  TensorSpec t{l.words[0], l.words[1], {}, l.words[2]};
  std::stringstream dims(l.words[3]);
  std::string d;
  while (std::getline(dims, d, ',')) t.shape.push_back(integer(l, d, 0, 1 << 30));
  if (t.shape.empty()) fail(l, "the shape has no dimensions");
  return t;
}

void per_channel(const Line& l, float out[3]) {
  if (l.words.size() != 1 && l.words.size() != 3) fail(l, "expected 1 or 3 values");
  for (size_t c = 0; c < 3; ++c) out[c] = static_cast<float>(number(l, l.words[l.words.size() == 1 ? 0 : c]));
}

std::vector<Line> split_lines(const std::string& text) {
  std::vector<Line> lines;
  std::stringstream in(text);
  std::string raw;
  int n = 0;
  while (std::getline(in, raw)) {
    ++n;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    size_t b = raw.find_first_not_of(" \t");
    if (b == std::string::npos || raw[b] == '#') continue;
    Line l{n, "", {}, ""};
    size_t e = raw.find_first_of(" \t", b);
    l.key = raw.substr(b, e == std::string::npos ? std::string::npos : e - b);
    if (e != std::string::npos) {
      size_t r = raw.find_first_not_of(" \t", e);
      l.rest = r == std::string::npos ? "" : raw.substr(r);
      std::stringstream ws(l.rest);
      std::string w;
      while (ws >> w) l.words.push_back(w);
    }
    lines.push_back(std::move(l));
  }
  return lines;
}

}  // namespace

ModelConfig parse_model_config(const std::string& text) {
  const auto lines = split_lines(text);
  if (lines.empty() || lines[0].key != kMagic) {
    throw AppError(std::string("edgepack_model.cfg does not start with '") + kMagic +
                   " 1'; it is not an edgepack app config: regenerate the project with edgepack template");
  }
  if (lines[0].words.size() != 1 || integer(lines[0], lines[0].words[0], 1, 1 << 20) != kVersion) {
    fail(lines[0], "config version " + lines[0].rest + " is not " + std::to_string(kVersion) +
                   " (written by a different edgepack)");
  }
  ModelConfig c;
  std::set<std::string> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const std::string& k = l.key;
    const bool repeats = k == "file" || k == "sha256" || k == "input" || k == "output" || k == "label";
    if (!repeats && !seen.insert(k).second) fail(l, "given twice");
    if (k == "label") {
      c.labels.push_back(l.rest);
    } else if (k == "input" || k == "output") {
      (k == "input" ? c.inputs : c.outputs).push_back(tensor(l));
    } else if (k == "file") {
      want_words(l, 2);
      if (l.words[1].find('/') != std::string::npos || l.words[1].rfind("..", 0) == 0) fail(l, "not a plain file name");
      c.files[l.words[0]] = l.words[1];
    } else if (k == "sha256") {
      want_words(l, 2);
      c.sha256[l.words[0]] = l.words[1];
    } else if (k == "task") {
      want_words(l, 1);
      c.task = one_of(l, l.words[0], {"classify", "detect", "segment"});
    } else if (k == "engine") {
      want_words(l, 1);
      c.engine = one_of(l, l.words[0], {"ncnn", "litert"});
    } else if (k == "precision") {
      want_words(l, 1);
      c.precision = l.words[0];
    } else if (k == "name") {
      c.name = l.rest;
    } else if (k == "pre.input") {
      want_words(l, 1);
      c.pre_input = l.words[0];
    } else if (k == "pre.size") {
      want_words(l, 2);
      c.width = integer(l, l.words[0], 1, 1 << 16);
      c.height = integer(l, l.words[1], 1, 1 << 16);
    } else if (k == "pre.color") {
      want_words(l, 1);
      c.color = one_of(l, l.words[0], {"RGB", "BGR", "GRAY"});
    } else if (k == "pre.resize") {
      want_words(l, 1);
      c.resize = one_of(l, l.words[0], {"stretch", "letterbox", "center_crop"});
    } else if (k == "pre.layout") {
      want_words(l, 1);
      c.layout = one_of(l, l.words[0], {"NCHW", "NHWC"});
    } else if (k == "pre.dtype") {
      want_words(l, 1);
      c.dtype = one_of(l, l.words[0], {"float32", "uint8"});
    } else if (k == "pre.mean") {
      per_channel(l, c.mean);
    } else if (k == "pre.std") {
      per_channel(l, c.std);
      for (float s : c.std) {
        if (s == 0.0f) fail(l, "std may not be 0");
      }
    } else if (k == "pre.pad_value") {
      want_words(l, 1);
      c.pad_value = integer(l, l.words[0], 0, 255);
    } else if (k == "pre.crop_fraction") {
      want_words(l, 1);
      c.crop_fraction = number(l, l.words[0]);
      if (!(c.crop_fraction > 0 && c.crop_fraction <= 1)) fail(l, "must be in (0, 1]");
    } else if (k == "post.kind") {
      want_words(l, 1);
      c.post_kind = one_of(l, l.words[0], {"topk", "yolo", "seg_argmax"});
    } else if (k == "post.output") {
      want_words(l, 1);
      c.post_output = l.words[0];
    } else if (k == "post.top_k") {
      want_words(l, 1);
      c.top_k = integer(l, l.words[0], 1, 1 << 30);
    } else if (k == "post.softmax") {
      want_words(l, 1);
      c.softmax = flag(l, l.words[0]);
    } else if (k == "post.yolo_layout") {
      want_words(l, 1);
      c.yolo_layout = one_of(l, l.words[0], {"attrs_first", "anchors_first"});
    } else if (k == "post.box_format") {
      want_words(l, 1);
      c.box_format = one_of(l, l.words[0], {"cxcywh", "xyxy"});
    } else if (k == "post.has_objectness") {
      want_words(l, 1);
      c.has_objectness = flag(l, l.words[0]);
    } else if (k == "post.score_threshold") {
      want_words(l, 1);
      c.score_threshold = static_cast<float>(number(l, l.words[0]));
    } else if (k == "post.iou_threshold") {
      want_words(l, 1);
      c.iou_threshold = static_cast<float>(number(l, l.words[0]));
    } else if (k == "post.max_detections") {
      want_words(l, 1);
      c.max_detections = integer(l, l.words[0], 0, 1 << 30);
    } else if (k == "post.class_agnostic") {
      want_words(l, 1);
      c.class_agnostic = flag(l, l.words[0]);
    } else {
      fail(l, "unknown key");
    }
  }
  const char* required[] = {"task", "engine", "pre.input", "pre.size", "post.kind", "post.output"};
  for (const char* r : required) {
    if (!seen.count(r)) {
      throw AppError(std::string("edgepack_model.cfg has no '") + r + "' line; regenerate the project with edgepack template");
    }
  }
  const std::map<std::string, std::string> kind_of = {{"classify", "topk"}, {"detect", "yolo"}, {"segment", "seg_argmax"}};
  if (kind_of.at(c.task) != c.post_kind) {
    throw AppError("edgepack_model.cfg: task '" + c.task + "' needs post.kind " + kind_of.at(c.task) + ", found " +
                   c.post_kind + "; regenerate the project with edgepack template");
  }
  if (c.inputs.empty() || c.outputs.empty()) {
    throw AppError("edgepack_model.cfg lists no input or no output tensor; regenerate the project with edgepack template");
  }
  return c;
}

ModelConfig load_model_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw AppError("cannot open " + path + "; the app's model resources are missing (regenerate the project)");
  std::stringstream s;
  s << f.rdbuf();
  return parse_model_config(s.str());
}

}  // namespace edgepack::app
