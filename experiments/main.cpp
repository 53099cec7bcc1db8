// paretonas: hardware-aware multi-objective neural architecture search.
#include <CLI/CLI.hpp>

#include <iostream>

#include "experiments/cli_common.h"

#ifndef PARETONAS_VERSION
#define PARETONAS_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace paretonas::experiments;
  CLI::App app{
      "paretonas: hardware-aware, multi-objective neural architecture search.\n"
      "Finds the Pareto front of accuracy vs inference cost (latency, params, MACs, memory)."};
  app.set_version_flag("-V,--version", std::string("paretonas ") + PARETONAS_VERSION +
                                           " (MPI support: no; LibTorch " + PARETONAS_TORCH_VERSION +
                                           ", CUDA: " PARETONAS_CUDA_TEXT
                                           "; ONNX export: " PARETONAS_ONNX_TEXT ")");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 I/O or internal failure, 2 bad arguments or input, "
             "3 not implemented yet, 130 stopped by a signal (resume it).\n"
             "Run `paretonas VERB --help` for a verb's options.");
  SetupSearch(app);
  SetupResume(app);
  SetupStatus(app);
  SetupExport(app);
  SetupReport(app);
  SetupLatency(app);
  SetupSpace(app);
  SetupValidate(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  return CommandExitCode();
}
