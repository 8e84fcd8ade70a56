// Shell completion for operatorctl, generated from its own CLI11 definition (`operatorctl
// completion bash|zsh|fish`; the build writes the three scripts and `cmake --install` installs
// them): every subcommand, every option and whether it takes a value, at every level, with the
// global options after any subcommand. What a value completes to follows the option's type name:
// PROVIDER (the built-in ids and aliases), CHANNEL, PATH (files), SECRET ("-": read it from stdin,
// which keeps it out of the shell history and of ps), SHELL; anything else completes to nothing.
// The scripts never ask the daemon, so a slow or absent daemon cannot stall the shell. Hidden
// subcommands (empty group) are left out. Pure functions.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace operator_auth::cli {

enum class CompletionShell { kBash, kZsh, kFish };

std::string CompletionScript(const CLI::App& app, CompletionShell shell);

}  // namespace operator_auth::cli
