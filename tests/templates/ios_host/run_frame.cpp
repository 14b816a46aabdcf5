// Host driver for the iOS template's C++ part: what EdgepackBridge.mm does per frame, minus Objective-C.
// run_frame CONFIG ENGINE_DIR LITERT_LIB_DIR FRAME.bgra WIDTH HEIGHT STRIDE ROTATE MIRROR MASK_OUT [MODEL]
// reads a BGRA8888 frame whose rows are STRIDE bytes (padded, as a CVPixelBuffer's), runs the FrameRunner
// with the LiteRT engine, prints the result as JSON and writes the mask bytes (if any) to MASK_OUT.
// MODEL replaces the config's model file (to run an ncnn project's config through LiteRT). Built with
// -DEDGEPACK_HOST_NCNN (and ncnn), an ncnn project's config runs on ncnn itself.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "edgepack/app.h"

int main(int argc, char** argv) {
  if (argc < 11) {
    std::cerr << "usage: run_frame CONFIG ENGINE_DIR LIB_DIR FRAME W H STRIDE ROTATE MIRROR MASK_OUT [MODEL]\n";
    return 2;
  }
  try {
    auto cfg = edgepack::app::load_model_config(argv[1]);
    std::string dir = argv[2];
    if (argc > 11) {
      std::string m = argv[11];
      auto slash = m.find_last_of('/');
      dir = m.substr(0, slash);
      cfg.files["model"] = m.substr(slash + 1);
    }
    std::ifstream f(argv[4], std::ios::binary);
    std::vector<uint8_t> pixels((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    edgepack::app::Frame frame;
    frame.image.format = edgepack::PixelFormat::BGRA8888;
    frame.image.width = std::atoi(argv[5]);
    frame.image.height = std::atoi(argv[6]);
    frame.image.stride[0] = static_cast<size_t>(std::atol(argv[7]));
    frame.image.plane[0] = pixels.data();
    frame.rotate = std::atoi(argv[8]);
    frame.mirror = std::atoi(argv[9]) != 0;
    std::unique_ptr<edgepack::app::Engine> engine;
#ifdef EDGEPACK_HOST_NCNN  // a host build linked with an ncnn built from source runs ncnn projects as they are
    if (cfg.engine == "ncnn" && argc <= 11) engine = edgepack::app::make_ncnn_engine(cfg, dir, 1);
#endif
    if (!engine) engine = edgepack::app::make_litert_engine(cfg, dir, 1, argv[3]);
    edgepack::app::FrameRunner runner(cfg, std::move(engine));
    const auto r = runner.run(frame);
    std::printf("{\"task\": \"%s\", \"engine\": \"%s\", \"class_ids\": [", r.task.c_str(), runner.engine().describe().c_str());
    for (size_t i = 0; i < r.class_ids.size(); ++i) std::printf("%s%d", i ? ", " : "", r.class_ids[i]);
    std::printf("], \"labels\": [");
    for (size_t i = 0; i < r.class_ids.size(); ++i) std::printf("%s\"%s\"", i ? ", " : "", runner.label(r.class_ids[i]).c_str());
    std::printf("], \"scores\": [");
    for (size_t i = 0; i < r.scores.size(); ++i) std::printf("%s%.9g", i ? ", " : "", r.scores[i]);
    std::printf("], \"boxes\": [");
    for (size_t i = 0; i < r.boxes.size(); ++i) std::printf("%s%.9g", i ? ", " : "", r.boxes[i]);
    std::printf("], \"mask\": [%d, %d, %d], \"timing_ms\": [%.4f, %.4f, %.4f]}\n", r.mask_width, r.mask_height,
                r.mask_in_source ? 1 : 0, r.timing.pre_ms, r.timing.infer_ms, r.timing.post_ms);
    std::ofstream(argv[10], std::ios::binary).write(reinterpret_cast<const char*>(r.mask.data()),
                                                     static_cast<std::streamsize>(r.mask.size()));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
