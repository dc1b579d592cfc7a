# Loads the pins of ./sources.json (npins format): each pin becomes its
# metadata plus an outPath that fetches the pinned tarball, checked against
# the pinned hash. `npins update` refreshes sources.json; `npins upgrade` may
# rewrite this file in npins' own words, which is fine.
let
  data = builtins.fromJSON (builtins.readFile ./sources.json);

  fetch =
    name: spec:
    if spec ? url then
      builtins.fetchTarball {
        inherit (spec) url;
        sha256 = spec.hash;
        name = "${name}-source";
      }
    else if spec.type == "Git" && spec.repository.type == "Git" then
      builtins.fetchGit {
        url = spec.repository.url;
        rev = spec.revision;
      }
    else
      throw "npins: pin ${name} of type ${spec.type} has no url to fetch";

  mkSource = name: spec: spec // { outPath = fetch name spec; };
in
if data.version >= 3 && data.version <= 7 then
  builtins.mapAttrs mkSource data.pins
else
  throw "npins/sources.json has format version ${toString data.version}; this loader reads versions 3 to 7"
