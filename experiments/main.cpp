// paretonas: hardware-aware multi-objective neural architecture search.
#include <CLI/CLI.hpp>

#include <iostream>

#include "experiments/cli_common.h"
#include "experiments/serve.h"
#include "space/yaml_util.h"

#ifndef PARETONAS_VERSION
#define PARETONAS_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace paretonas::experiments;
  namespace mpi = paretonas::evaluator::mpi;
  // Under mpirun every rank but 0 is an evaluation worker: rank 0 parses the command line and
  // sends the experiment to the workers (or tells them to quit when the verb needs none).
  mpi::Init(&argc, &argv);
  if (mpi::Active() && mpi::Rank() != 0) return mpi::ServeWorker(MakeWorkerEngine);
  const std::string mpi_text =
      mpi::Built() ? "MPI support: yes (" + mpi::LibraryVersion() + ")" : "MPI support: no";
  CLI::App app{
      "paretonas: hardware-aware, multi-objective neural architecture search.\n"
      "Finds the Pareto front of accuracy vs inference cost (latency, params, MACs, memory)."};
  app.set_version_flag("-V,--version", std::string("paretonas ") + PARETONAS_VERSION + " (" +
                                           mpi_text + "; LibTorch " + PARETONAS_TORCH_VERSION +
                                           ", CUDA: " PARETONAS_CUDA_TEXT
                                           "; ONNX export: " PARETONAS_ONNX_TEXT "; serve: " +
                                           (ServeAvailable() ? "yes" : "no") + ")");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 I/O or internal failure, 2 bad arguments or input, "
             "3 not implemented yet, 130 stopped by a signal (resume it).\n"
             "Run `paretonas VERB --help` for a verb's options.");
  SetupSearch(app);
  SetupResume(app);
  SetupStatus(app);
  SetupExport(app);
  SetupPick(app);
  SetupReport(app);
  SetupServe(app);
  SetupLatency(app);
  SetupSpace(app);
  SetupValidate(app);
  SetupSupernet(app);
  // A misspelled verb (or sub-verb) gets the closest one, not only "a subcommand is required".
  {
    CLI::App* level = &app;
    for (int i = 1; i < argc && argv[i][0] != '-'; ++i) {
      const auto subs = level->get_subcommands([](const CLI::App*) { return true; });
      if (subs.empty()) break;
      std::vector<std::string> names;
      CLI::App* next = nullptr;
      for (CLI::App* s : subs) {
        names.push_back(s->get_name());
        if (s->get_name() == argv[i]) next = s;
      }
      if (!next) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        const std::string close = paretonas::yamlutil::ClosestWord(argv[i], names);
        std::cerr << "paretonas: error: '" << argv[i] << "' is not a verb"
                  << (level == &app ? "" : " of `paretonas " + level->get_name() + "`")
                  << (close.empty() ? std::string() : "; did you mean '" + close + "'?")
                  << " (verbs: " << list << "; `paretonas --help` explains them)\n";
        return mpi::Finish(kExitUsage);
      }
      level = next;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return mpi::Finish(code == 0 ? 0 : kExitUsage);
  }
  return mpi::Finish(CommandExitCode());
}
