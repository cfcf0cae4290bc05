// In-process generation of a throwaway CA and a loopback server certificate.
#pragma once

#include <string>

namespace sandbox {

struct TlsFiles {
    std::string ca_cert;      // DIR/ca.pem: what clients trust
    std::string server_cert;  // DIR/server-cert.pem
    std::string server_key;   // DIR/server-key.pem (mode 0600)
};

// Creates DIR (0700) if needed and writes the three files. The CA's private
// key is never written anywhere: once this returns nobody can sign another
// certificate with that CA. The server certificate (EC P-256, SHA-256, 30
// days) carries SAN IP:127.0.0.1, IP:::1, DNS:localhost and EKU serverAuth.
// Returns false with `err` set on failure.
bool generate_self_signed(const std::string &dir, TlsFiles &out, std::string &err);

}  // namespace sandbox
