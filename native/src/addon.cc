// Node-API surface of the probe: open(options) returns a handle with readBatch, stats and close.
// Every call runs on the JavaScript main thread and returns at once; the addon starts no thread,
// so it never calls into JavaScript from elsewhere. Errors are C++ exceptions: a ProbeError
// becomes a JavaScript Error whose `code` names the failure, bad arguments a TypeError or a
// RangeError.
#include <napi.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "probe.h"
#include "probe_error.h"

namespace peregrine {

namespace {

constexpr size_t kMinRingBytes = 64 * 1024;
constexpr size_t kMaxRingBytes = size_t{1} << 30;

[[noreturn]] void throw_js(Napi::Env env, const ProbeError& error) {
  Napi::Error js_error = Napi::Error::New(env, error.what());
  js_error.Set("code", Napi::String::New(env, error.code()));
  throw js_error;
}

uint32_t read_uint32(Napi::Env env, const Napi::Object& object, const char* name) {
  Napi::Value value = object.Get(name);
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(name) + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (number < 0 || number > 4294967295.0 || number != static_cast<uint32_t>(number)) {
    throw Napi::RangeError::New(env, std::string(name) + " must be an integer in [0, 2^32)");
  }
  return static_cast<uint32_t>(number);
}

void read_byte_array(Napi::Env env, const Napi::Object& object, const char* name, uint8_t* dst) {
  Napi::Value value = object.Get(name);
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 6) {
    throw Napi::TypeError::New(env, std::string(name) + " must be an array of 6 numbers");
  }
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < 6; i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber())
      throw Napi::TypeError::New(env, std::string(name) + " contains a value that is not a number");
    dst[i] = static_cast<uint8_t>(item.As<Napi::Number>().Uint32Value());
  }
}

SyscallSpecEntry read_spec(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "each syscall spec must be an object");
  Napi::Object object = value.As<Napi::Object>();
  SyscallSpecEntry entry;
  entry.nr = read_uint32(env, object, "nr");
  entry.spec.enabled = 1;
  entry.spec.res_kind = static_cast<uint8_t>(read_uint32(env, object, "resKind"));
  entry.spec.flags = static_cast<uint8_t>(read_uint32(env, object, "flags"));
  read_byte_array(env, object, "argKinds", entry.spec.arg_kind);
  read_byte_array(env, object, "lenArgs", entry.spec.len_arg);
  return entry;
}

ProbeOptions read_options(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "open() takes an options object");
  Napi::Object object = value.As<Napi::Object>();
  ProbeOptions options;

  options.ring_bytes = read_uint32(env, object, "ringBytes");
  size_t page_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  bool is_power_of_two = (options.ring_bytes & (options.ring_bytes - 1)) == 0;
  if (!is_power_of_two || options.ring_bytes < kMinRingBytes ||
      options.ring_bytes > kMaxRingBytes || options.ring_bytes % page_bytes != 0) {
    throw Napi::RangeError::New(env, "ringBytes must be a power of two from 64 KiB to 1 GiB");
  }

  options.ignored_tgid = read_uint32(env, object, "ignoredPid");
  options.unified_cgroup = object.Get("unifiedCgroup").ToBoolean();

  Napi::Value syscalls = object.Get("syscalls");
  if (!syscalls.IsArray()) throw Napi::TypeError::New(env, "syscalls must be an array");
  Napi::Array array = syscalls.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) {
    options.syscalls.push_back(read_spec(env, array.Get(i)));
  }
  return options;
}

class ProbeHandle : public Napi::ObjectWrap<ProbeHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "ProbeHandle",
        {InstanceMethod("readBatch", &ProbeHandle::ReadBatch),
         InstanceMethod("stats", &ProbeHandle::Stats), InstanceMethod("close", &ProbeHandle::Close),
         InstanceAccessor("bootEpochNs", &ProbeHandle::BootEpochNs, nullptr)});
  }

  explicit ProbeHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProbeHandle>(info) {
    ProbeOptions options = read_options(info.Env(), info[0]);
    try {
      probe_ = std::make_unique<Probe>(options);
    } catch (const ProbeError& error) {
      throw_js(info.Env(), error);
    }
  }

 private:
  // The buffer belongs to the JavaScript caller; the addon writes into it only during this call.
  Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "readBatch() takes a Buffer or Uint8Array");
    }
    Napi::Uint8Array buffer = info[0].As<Napi::Uint8Array>();
    if (buffer.ByteLength() < PG_MAX_RECORD_BYTES) {
      throw Napi::RangeError::New(env,
                                  "the batch buffer must hold at least one maximum-size "
                                  "record (" +
                                      std::to_string(PG_MAX_RECORD_BYTES) + " bytes)");
    }

    BatchResult result;
    try {
      result = probe_->read_batch(buffer.Data(), buffer.ByteLength());
    } catch (const ProbeError& error) {
      throw_js(env, error);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("bytes", Napi::Number::New(env, static_cast<double>(result.bytes)));
    out.Set("records", Napi::Number::New(env, result.records));
    return out;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ProbeStats stats = probe_->stats();
    auto number = [&](uint64_t value) {
      return Napi::Number::New(env, static_cast<double>(value));
    };
    Napi::Object out = Napi::Object::New(env);
    out.Set("emitted", number(stats.counters[PG_COUNTER_EMITTED]));
    out.Set("ringFull", number(stats.counters[PG_COUNTER_RING_FULL]));
    out.Set("stashFull", number(stats.counters[PG_COUNTER_STASH_FULL]));
    out.Set("readFailed", number(stats.counters[PG_COUNTER_READ_FAILED]));
    out.Set("exitWithoutEnter", number(stats.counters[PG_COUNTER_EXIT_WITHOUT_ENTER]));
    out.Set("compatSkipped", number(stats.counters[PG_COUNTER_COMPAT_SKIPPED]));
    out.Set("pendingBytes", number(stats.pending_bytes));
    out.Set("ringBytes", number(stats.ring_bytes));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    probe_->close();
    return info.Env().Undefined();
  }

  Napi::Value BootEpochNs(const Napi::CallbackInfo& info) {
    return Napi::BigInt::New(info.Env(), probe_->boot_epoch_ns());
  }

  std::unique_ptr<Probe> probe_;
};

Napi::Value Open(const Napi::CallbackInfo& info) {
  return info.Env().GetInstanceData<Napi::FunctionReference>()->New({info[0]});
}

Napi::Value UnavailableReason(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), unavailable_reason());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = ProbeHandle::Define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(constructor)));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("unavailableReason", Napi::Function::New(env, UnavailableReason));
  exports.Set("layoutVersion", Napi::Number::New(env, PG_LAYOUT_VERSION));
  exports.Set("maxRecordBytes", Napi::Number::New(env, PG_MAX_RECORD_BYTES));
  return exports;
}

}  // namespace

}  // namespace peregrine

// NODE_API_MODULE pastes its second argument into a name, so it must be unqualified.
static Napi::Object InitPeregrineProbe(Napi::Env env, Napi::Object exports) {
  return peregrine::Init(env, exports);
}

NODE_API_MODULE(peregrine_probe, InitPeregrineProbe)
