// Validates Kubernetes custom resources against their CRD schemas.
// stdin: a JSON array of manifests. stdout: a JSON array with, per manifest, a list of errors
// (empty when valid). Exit 0 unless the input cannot be read.
const PACKAGES = {
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "external-secrets.io": "@kubernetes-models/external-secrets",
  "generators.external-secrets.io": "@kubernetes-models/external-secrets",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

async function validate(manifest) {
  const [group] = String(manifest.apiVersion).split("/");
  const pkg = PACKAGES[group];
  if (!pkg) return [`no schema for apiVersion ${manifest.apiVersion}`];
  let Model;
  try {
    Model = (await import(`${pkg}/${manifest.apiVersion}/${manifest.kind}`))[manifest.kind];
  } catch {
    return [`no schema for ${manifest.apiVersion} ${manifest.kind}`];
  }
  try {
    new Model(manifest).validate();
    return [];
  } catch (error) {
    return [error.message];
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const manifests = JSON.parse(input);
const results = [];
for (const manifest of manifests) results.push(await validate(manifest));
process.stdout.write(JSON.stringify(results));
