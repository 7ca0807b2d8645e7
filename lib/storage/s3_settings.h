// Where an S3 bucket is and who ckpt is to it: endpoint, region, addressing style, credentials,
// and the client's limits, resolved from the sources Flink users already have, first match wins:
//
//  1. Flink configuration (`-c config.yaml`, `-D key=value`): s3.endpoint, s3.path.style.access,
//     s3.access-key, s3.secret-key, s3.endpoint.region (or s3.region), s3.multipart.size;
//  2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
//     AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL;
//  3. the AWS shared files for AWS_PROFILE (default "default"): ~/.aws/credentials
//     (AWS_SHARED_CREDENTIALS_FILE) and ~/.aws/config (AWS_CONFIG_FILE): aws_access_key_id,
//     aws_secret_access_key, aws_session_token, region, endpoint_url.
//
// Not yet supported (named in ckpt(1)): web identity (IRSA, AWS_WEB_IDENTITY_TOKEN_FILE), EC2/ECS
// instance metadata, SSO and credential_process. Their absence is said in the error when no
// credentials are found.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace ckpt::storage {

struct S3Settings {
  std::string endpoint;  // "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  bool path_style = false;  // https://HOST/BUCKET/KEY instead of https://BUCKET.HOST/KEY
  std::string access_key, secret_key, session_token;
  std::string credentials_source;  // "s3.access-key", "environment", "profile default", ...
  uint64_t part_size = 16u << 20;  // multipart upload above this size, in parts of this size
  int max_attempts = 8;            // per request, with exponential backoff and full jitter
  int base_delay_ms = 100;
  int max_delay_ms = 10'000;
  int parallelism = 16;  // concurrent requests of one batch (deletes, ranged reads)
};

// Resolves the settings for `scheme` ("s3", "s3a", "s3p" or "gs") from Flink configuration
// `config` (flat keys), the environment and the AWS shared files. Throws util::Error (kUsage)
// naming every source it looked at when no credentials are found.
S3Settings resolve_s3_settings(const std::string& scheme, const std::map<std::string, std::string>& config);

// INI sections of an AWS shared file ("default", "profile NAME", ...); missing file: empty.
std::map<std::string, std::map<std::string, std::string>> read_aws_ini(const std::string& path);

}  // namespace ckpt::storage
