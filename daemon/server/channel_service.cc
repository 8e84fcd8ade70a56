#include "daemon/server/channel_service.h"

#include <map>
#include <string>

#include "daemon/core/channel_catalog.h"
#include "daemon/server/unary_finish.h"

namespace operator_auth {
namespace {

v1::ChannelValueSource ToProto(ChannelValueSource source) {
  switch (source) {
    case ChannelValueSource::kNone:
      return v1::CHANNEL_VALUE_SOURCE_NONE;
    case ChannelValueSource::kFile:
      return v1::CHANNEL_VALUE_SOURCE_FILE;
    case ChannelValueSource::kEnv:
      return v1::CHANNEL_VALUE_SOURCE_ENV;
  }
  return v1::CHANNEL_VALUE_SOURCE_NONE;
}

void ToProto(ChannelState in, v1::ChannelInfo& out) {
  out.set_name(std::move(in.channel));
  out.set_display_name(std::move(in.display_name));
  out.set_configured(in.configured);
  for (ChannelFieldState& f : in.fields) {
    v1::ChannelField* field = out.add_fields();
    field->set_name(std::move(f.field));
    field->set_configured(f.source != ChannelValueSource::kNone);
    field->set_source(ToProto(f.source));
    field->set_env_var(std::move(f.env_var));
    field->set_secret(f.secret);
    field->set_value(std::move(f.value));
  }
  out.set_problem(std::move(in.problem));
  out.set_storage_error(std::move(in.storage_error));
}

// The channel as the audit trail records it: "channel:NAME", or "channel:" alone for a name that
// is not even plausible (it could be a token pasted in its place).
std::string AuditedChannel(const std::string& channel) {
  return IsPlausibleChannelName(channel) ? "channel:" + channel : std::string("channel:");
}

}  // namespace

grpc::ServerUnaryReactor* ChannelServiceImpl::Write(grpc::CallbackServerContext* context,
                                                    const char* method, const std::string& channel,
                                                    RequestCounter::Slot& counter,
                                                    std::function<absl::Status()> work) {
  CallTracker::Call call = calls_.Track(context);
  std::string rule;
  absl::Status allowed = gate_.CheckChannel(call.identity().get(), channel, rule);
  if (!allowed.ok()) {
    gate_.Record(method, call.identity(), std::move(rule), AuditedChannel(channel), std::string(),
                 allowed);
    return FinishNow(context, allowed, counter);
  }
  std::function<void(const absl::Status&)> audit;
  if (gate_.auditing()) {
    audit = [this, method, peer = call.identity(), rule = std::move(rule),
             audited = AuditedChannel(channel)](const absl::Status& outcome) {
      gate_.Record(method, peer, rule, audited, std::string(), outcome);
    };
  }
  return FinishOnExecutor(context, writes_, std::move(call), counter, std::move(work),
                          std::move(audit));
}

grpc::ServerUnaryReactor* ChannelServiceImpl::ListChannels(grpc::CallbackServerContext* context,
                                                           const v1::ListChannelsRequest*,
                                                           v1::ListChannelsResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  for (ChannelState& state : manager_.List()) ToProto(std::move(state), *response->add_channels());
  return FinishNow(context, absl::OkStatus(), list_);
}

grpc::ServerUnaryReactor* ChannelServiceImpl::GetChannel(grpc::CallbackServerContext* context,
                                                         const v1::GetChannelRequest* request,
                                                         v1::GetChannelResponse* response) {
  CallTracker::Call call = calls_.Track(context);
  std::string rule;
  absl::Status allowed = gate_.CheckChannel(call.identity().get(), request->channel(), rule);
  if (!allowed.ok()) {
    gate_.Record("GetChannel", call.identity(), std::move(rule), AuditedChannel(request->channel()),
                 std::string(), allowed);
    return FinishNow(context, allowed, get_);
  }
  absl::StatusOr<ChannelState> state = manager_.Get(request->channel());
  if (state.ok()) ToProto(*std::move(state), *response->mutable_channel());
  if (gate_.auditing()) {
    gate_.Record("GetChannel", call.identity(), std::move(rule), AuditedChannel(request->channel()),
                 std::string(), state.status());
  }
  return FinishNow(context, state.status(), get_);
}

grpc::ServerUnaryReactor* ChannelServiceImpl::SetChannel(grpc::CallbackServerContext* context,
                                                         const v1::SetChannelRequest* request,
                                                         v1::SetChannelResponse* response) {
  return Write(context, "SetChannel", request->channel(), set_, [this, request, response] {
    std::map<std::string, std::string> fields(request->fields().begin(), request->fields().end());
    absl::StatusOr<bool> changed = manager_.Set(request->channel(), fields);
    if (changed.ok()) response->set_changed(*changed);
    return changed.status();
  });
}

grpc::ServerUnaryReactor* ChannelServiceImpl::UnsetChannel(grpc::CallbackServerContext* context,
                                                           const v1::UnsetChannelRequest* request,
                                                           v1::UnsetChannelResponse* response) {
  return Write(context, "UnsetChannel", request->channel(), unset_, [this, request, response] {
    absl::StatusOr<bool> changed = manager_.Unset(request->channel());
    if (changed.ok()) response->set_changed(*changed);
    return changed.status();
  });
}

}  // namespace operator_auth
